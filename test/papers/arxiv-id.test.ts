import { describe, expect, it } from "vitest";
import {
  ArxivIdError,
  analyseArxivRef,
  arxivAbsUrl,
  arxivPdfUrl,
  canonicalId,
  describeRefError,
  isArxivId,
  parseArxivRef,
} from "../../src/papers/arxiv-id.js";

describe("parseArxivRef", () => {
  it.each([
    ["2401.00631", { id: "2401.00631" }],
    ["2401.00631v3", { id: "2401.00631", version: 3 }],
    ["2401.00631V3", { id: "2401.00631", version: 3 }],
    ["0704.0001", { id: "0704.0001" }],
    ["1412.6980v9", { id: "1412.6980", version: 9 }],
    ["1501.00001", { id: "1501.00001" }],
    ["hep-th/9901001v2", { id: "hep-th/9901001", version: 2 }],
    ["hep-th/9108001", { id: "hep-th/9108001" }],
    ["HEP-TH/9901001", { id: "hep-th/9901001" }],
    ["math.GT/0309136", { id: "math/0309136" }],
    ["math.GT/0309136v1", { id: "math/0309136", version: 1 }],
    ["cond-mat/0102536", { id: "cond-mat/0102536" }],
    ["physics.acc-ph/0702001", { id: "physics/0702001" }],
    ["cs/0703001", { id: "cs/0703001" }],
  ])("bare id %s", (input, expected) => {
    expect(parseArxivRef(input)).toEqual(expected);
  });

  it.each([
    ["arXiv:2401.00631", { id: "2401.00631" }],
    ["ARXIV:2401.00631v2", { id: "2401.00631", version: 2 }],
    ["arxiv: 2401.00631", { id: "2401.00631" }],
    ["arXiv:hep-th/9901001v2", { id: "hep-th/9901001", version: 2 }],
    ["arXiv:2401.00631 [cs.LG]", { id: "2401.00631" }],
    ["  2401.00631v3 \n", { id: "2401.00631", version: 3 }],
    ["<https://arxiv.org/abs/2401.00631>", { id: "2401.00631" }],
    ["10.48550/arXiv.2401.00631", { id: "2401.00631" }],
    ["doi:10.48550/arXiv.2401.00631", { id: "2401.00631" }],
  ])("prefixed reference %j", (input, expected) => {
    expect(parseArxivRef(input)).toEqual(expected);
  });

  it.each([
    ["https://arxiv.org/abs/2401.00631v2", { id: "2401.00631", version: 2 }],
    ["https://arxiv.org/abs/2401.00631", { id: "2401.00631" }],
    ["https://arxiv.org/pdf/2401.00631v2", { id: "2401.00631", version: 2 }],
    ["https://arxiv.org/pdf/2401.00631v2.pdf", { id: "2401.00631", version: 2 }],
    ["https://arxiv.org/pdf/2401.00631.pdf", { id: "2401.00631" }],
    ["https://arxiv.org/html/2401.00631v1", { id: "2401.00631", version: 1 }],
    ["https://arxiv.org/html/2401.00631v1/#S2", { id: "2401.00631", version: 1 }],
    ["https://export.arxiv.org/abs/2401.00631", { id: "2401.00631" }],
    ["http://arxiv.org/abs/2401.00631", { id: "2401.00631" }],
    ["https://www.arxiv.org/abs/2401.00631/", { id: "2401.00631" }],
    ["https://arxiv.org/abs/2401.00631?context=cs.LG", { id: "2401.00631" }],
    ["https://arxiv.org/abs/2401.00631#comments", { id: "2401.00631" }],
    ["arxiv.org/abs/2401.00631", { id: "2401.00631" }],
    ["https://arxiv.org/abs/hep-th/9901001v2", { id: "hep-th/9901001", version: 2 }],
    ["https://arxiv.org/abs/math.GT/0309136", { id: "math/0309136" }],
    ["https://arxiv.org/pdf/cond-mat/0102536v1.pdf", { id: "cond-mat/0102536", version: 1 }],
    ["https://www.alphaxiv.org/abs/2401.00631", { id: "2401.00631" }],
    ["https://alphaxiv.org/overview/2401.00631v2", { id: "2401.00631", version: 2 }],
    ["https://huggingface.co/papers/2401.00631", { id: "2401.00631" }],
    ["huggingface.co/papers/2401.00631#community", { id: "2401.00631" }],
    ["https://ar5iv.labs.arxiv.org/html/2401.00631", { id: "2401.00631" }],
    ["https://doi.org/10.48550/arXiv.2401.00631", { id: "2401.00631" }],
  ])("URL %s", (input, expected) => {
    expect(parseArxivRef(input)).toEqual(expected);
  });

  it.each([
    "",
    "   ",
    "abc",
    "2401.0063",
    "2401.006311",
    "0704.00001",
    "9999.99999",
    "2413.00001",
    "2400.00001",
    "0601.0001",
    "2401.00000",
    "2401.00631v0",
    "hep-th/9913001",
    "hep-th/990100",
    "hep-th/0801001",
    "foo-bar/9901001",
    "2401.00631 and more",
    "https://example.com/abs/2401.00631",
    "https://arxiv.org/",
    "https://arxiv.org/abs/",
    "https://arxiv.org/list/cs.LG/recent",
    "ftp://arxiv.org/abs/2401.00631",
    "arXiv:",
  ])("rejects %j", (input) => {
    expect(parseArxivRef(input)).toBeUndefined();
    expect(describeRefError(input)).toEqual(expect.any(String));
  });

  it("does not throw on non-string input from untyped callers", () => {
    expect(parseArxivRef(undefined as unknown as string)).toBeUndefined();
    expect(parseArxivRef(42 as unknown as string)).toBeUndefined();
  });
});

describe("describeRefError", () => {
  it("is undefined for valid input", () => {
    expect(describeRefError("2401.00631v2")).toBeUndefined();
    expect(describeRefError("https://arxiv.org/abs/hep-th/9901001")).toBeUndefined();
  });

  it("gives a reason a user can act on", () => {
    expect(describeRefError("abc")).toBe("not an arXiv id or URL: abc");
    expect(describeRefError("https://example.com/paper/2401.00631")).toBe(
      "not an arXiv id or URL: https://example.com/paper/2401.00631",
    );
    expect(describeRefError("https://arxiv.org/abs/")).toBe("arXiv URL without an id: https://arxiv.org/abs/");
    expect(describeRefError("https://arxiv.org/list/cs.LG/recent")).toBe(
      "arXiv URL without an id: https://arxiv.org/list/cs.LG/recent",
    );
    expect(describeRefError("2413.00001")).toBe("month 13 does not exist in 2413.00001");
    expect(describeRefError("9999.99999")).toBe("month 99 does not exist in 9999.99999");
    expect(describeRefError("hep-th/9913001")).toBe("month 13 does not exist in hep-th/9913001");
    expect(describeRefError("2401.0063")).toMatch(/2401\.0063 has 4 digits after the dot; ids from January 2015 on have 5/);
    expect(describeRefError("0704.00001")).toMatch(/before 2015 have 4/);
    expect(describeRefError("2401.00631v0")).toMatch(/versions start at v1/);
    expect(describeRefError("foo-bar/9901001")).toMatch(/unknown arXiv archive "foo-bar"/);
    expect(describeRefError("")).toMatch(/^empty input/);
    expect(describeRefError("https://arxiv.org/abs/2413.00001")).toBe("month 13 does not exist in 2413.00001");
  });

  it("cuts long input in the message", () => {
    const msg = describeRefError("x".repeat(5000))!;
    expect(msg.length).toBeLessThan(150);
  });
});

describe("canonicalId, isArxivId and URLs", () => {
  it("canonicalId strips the version and normalises old-style ids", () => {
    expect(canonicalId("2401.00631v3")).toBe("2401.00631");
    expect(canonicalId("arXiv:math.GT/0309136v2")).toBe("math/0309136");
    expect(canonicalId("https://arxiv.org/pdf/2401.00631v2.pdf")).toBe("2401.00631");
  });

  it("canonicalId throws ArxivIdError with the reason", () => {
    expect(() => canonicalId("2413.00001")).toThrow(ArxivIdError);
    expect(() => canonicalId("2413.00001")).toThrow("month 13 does not exist in 2413.00001");
  });

  it("isArxivId accepts bare ids only", () => {
    expect(isArxivId("2401.00631")).toBe(true);
    expect(isArxivId("2401.00631v2")).toBe(true);
    expect(isArxivId("hep-th/9901001")).toBe(true);
    expect(isArxivId("arXiv:2401.00631")).toBe(false);
    expect(isArxivId("https://arxiv.org/abs/2401.00631")).toBe(false);
    expect(isArxivId(" 2401.00631")).toBe(false);
    expect(isArxivId("sample:foo")).toBe(false);
    expect(isArxivId("2401.0063")).toBe(false);
  });

  it("builds abs and pdf URLs", () => {
    expect(arxivAbsUrl("2401.00631v2")).toBe("https://arxiv.org/abs/2401.00631");
    expect(arxivAbsUrl("hep-th/9901001")).toBe("https://arxiv.org/abs/hep-th/9901001");
    expect(arxivPdfUrl("2401.00631")).toBe("https://arxiv.org/pdf/2401.00631");
    expect(arxivPdfUrl("2401.00631", 3)).toBe("https://arxiv.org/pdf/2401.00631v3");
    expect(arxivPdfUrl("2401.00631v2")).toBe("https://arxiv.org/pdf/2401.00631v2");
    expect(arxivPdfUrl("2401.00631v2", 4)).toBe("https://arxiv.org/pdf/2401.00631v4");
    expect(() => arxivPdfUrl("2401.00631", 0)).toThrow(ArxivIdError);
    expect(() => arxivAbsUrl("nope")).toThrow(ArxivIdError);
  });

  it("every id in a URL it builds parses back to itself", () => {
    for (const id of ["2401.00631", "0704.0001", "hep-th/9901001", "math/0309136"]) {
      expect(parseArxivRef(arxivAbsUrl(id))).toEqual({ id });
      expect(parseArxivRef(arxivPdfUrl(id, 2))).toEqual({ id, version: 2 });
    }
  });
});

describe("analyseArxivRef", () => {
  it("tells other kinds of id from broken arXiv ids", () => {
    expect(analyseArxivRef("2401.00631v2")).toEqual({ ok: true, ref: { id: "2401.00631", version: 2 } });
    for (const other of ["4983", "abc", "https://openreview.net/forum?id=x", "scifact:12", "10.1000/xyz"]) {
      expect(analyseArxivRef(other)).toMatchObject({ ok: false, unrecognised: true });
    }
    for (const broken of ["2413.00001", "2401.0063", "hep-th/9913001", "https://arxiv.org/abs/", "arXiv:abc"]) {
      const r = analyseArxivRef(broken);
      expect(r.ok).toBe(false);
      expect(r.ok === false && r.unrecognised).toBeFalsy();
    }
  });
});
