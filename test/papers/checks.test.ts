/** Dates and arXiv categories, checked once for the CLI, the chat commands and the request builders. */
import { describe, expect, it } from "vitest";
import { isArxivCategory, isArxivCategoryCode, isCalendarDate, normaliseCategory } from "../../src/papers/checks.js";

describe("isCalendarDate", () => {
  it("takes days that exist, months and years; dayOnly takes days only", () => {
    for (const d of ["2024-02-29", "2024-01", "2024", "1999-12-31"]) expect(isCalendarDate(d), d).toBe(true);
    for (const d of ["2023-02-29", "2024-13-01", "2024-00-10", "0999-01-01", "2024-1-1", "24-01-01", " 2024", ""]) expect(isCalendarDate(d), d).toBe(false);
    expect(isCalendarDate("2024-01", { dayOnly: true })).toBe(false);
    expect(isCalendarDate("2024-01-31", { dayOnly: true })).toBe(true);
  });
});

describe("arXiv categories", () => {
  it("users may write any case; arXiv's services get the archive in lower case", () => {
    for (const c of ["cs.LG", "cs", "hep-th", "astro-ph.CO", "q-bio.NC", "physics.acc-ph", "CS.lg"]) expect(isArxivCategory(c), c).toBe(true);
    for (const c of ["cs.LG) OR all:x", "cs.", ".LG", "cs-", "cs LG", "cs.LG.x", ""]) expect(isArxivCategory(c), c).toBe(false);
    expect(isArxivCategoryCode("cs.LG")).toBe(true);
    expect(isArxivCategoryCode("cs.lg")).toBe(true);
    expect(isArxivCategoryCode("Not")).toBe(false);
    expect(isArxivCategoryCode("CS.LG")).toBe(false);
  });

  it("normalises to arXiv's spelling", () => {
    expect(normaliseCategory("CS.lg")).toBe("cs.LG");
    expect(normaliseCategory("Math")).toBe("math");
    expect(normaliseCategory("physics.acc-ph")).toBe("physics.acc-ph");
  });
});
