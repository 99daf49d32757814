/**
 * The menus under a list of results, platform-neutral: each picks one of the listed papers for a
 * command (save it to the channel's library, show its BibTeX). Adapters render `paperMenus(view)`
 * with their own ids and run the chosen one's `call(paper)`; neither the labels nor the commands
 * are written in an adapter.
 */
import type { RawOptions } from "./types.js";
import type { ResultsView } from "./view.js";

export type PaperMenuId = "save" | "cite";

export interface PaperMenu {
  id: PaperMenuId;
  /** The menu's placeholder text. */
  label: string;
  /** The command a chosen paper runs, answered to the user alone. */
  call(paper: string): { command: string; options: RawOptions };
}

export const PAPER_MENUS: Readonly<Record<PaperMenuId, PaperMenu>> = {
  save: { id: "save", label: "Save to this channel's library…", call: (paper) => ({ command: "save", options: { paper } }) },
  cite: { id: "cite", label: "BibTeX of…", call: (paper) => ({ command: "library", options: { action: "cite", paper } }) },
};

/** The menus a results view offers: a library's own list has nothing to save. */
export function paperMenus(view: Pick<ResultsView, "library">): PaperMenu[] {
  return view.library ? [PAPER_MENUS.cite] : [PAPER_MENUS.save, PAPER_MENUS.cite];
}
