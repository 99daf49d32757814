/** The one policy for characters outside text must not bring to a reader's screen. */
import { describe, expect, it } from "vitest";
import { withoutControls } from "../../src/papers/display.js";

describe("withoutControls", () => {
  it("turns terminal escapes, C0/C1 controls and bidirectional overrides into spaces; keeps newlines, tabs and text", () => {
    expect(withoutControls("a\u001b[2Jb")).toBe("a [2Jb");
    expect(withoutControls("x\u001b]52;c;ZXZpbA==\u0007y")).toBe("x ]52;c;ZXZpbA== y");
    expect(withoutControls("\u009b31m\u0000\u007f")).toBe(" 31m  ");
    expect(withoutControls("\u202egnp.exe\u202c \u2066iso\u2069")).toBe(" gnp.exe   iso ");
    expect(withoutControls("line one\n\tline two — Müller, 数学")).toBe("line one\n\tline two — Müller, 数学");
  });
});
