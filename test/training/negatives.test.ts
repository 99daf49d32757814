/**
 * Hard-negative mining (training/negatives.ts): a paper's negatives are the other papers sharing
 * its title's words, best first, never itself; rows are padded with -1.
 */
import { describe, expect, it } from "vitest";
import { mineNegatives } from "../../training/negatives.js";

const papers = [
  { title: "Graph neural networks for molecule property prediction", abstract: "We predict properties of molecules with message passing on molecular graphs." },
  { title: "Message passing graph networks on molecules", abstract: "Molecular graphs and neural message passing improve property prediction for chemistry." },
  { title: "Diffusion models for image generation", abstract: "Denoising diffusion generates images from noise with a learned score." },
  { title: "Faster sampling of image diffusion models", abstract: "We cut the sampling steps of diffusion models for images." },
  { title: "Graph neural networks explained", abstract: "A survey of neural networks on graphs and their explanations." },
  { title: "Quantum error correction codes", abstract: "Surface codes protect qubits from noise." },
];

describe("mineNegatives", () => {
  it("ranks the papers sharing a title's words first and never lists the paper itself", () => {
    const perPaper = 3;
    const rows = mineNegatives(papers, perPaper);
    expect(rows.length).toBe(papers.length * perPaper);
    const row = (i: number): number[] => Array.from(rows.subarray(i * perPaper, (i + 1) * perPaper));
    papers.forEach((_, i) => expect(row(i)).not.toContain(i));
    // Molecule GNN papers find each other; the image diffusion papers find each other.
    expect([1, 4]).toContain(row(0)[0]);
    expect(row(0).slice(0, 2).sort()).toEqual([1, 4]);
    expect(row(2)[0]).toBe(3);
    expect(row(3)[0]).toBe(2);
  });

  it("pads with -1 where fewer papers share any word", () => {
    const rows = mineNegatives(papers, 4);
    // Nothing else is about quantum codes, qubits or surface codes (the abstract's "noise" is not in the title).
    expect(Array.from(rows.subarray(5 * 4, 6 * 4))).toEqual([-1, -1, -1, -1]);
    expect(() => mineNegatives(papers, 0)).toThrow(/perPaper/);
  });
});
