/**
 * Synthetic arXiv-like paper records for tests that need a few hundred papers without the shared
 * data set: distinct titles, varied English-ish abstracts (several sentences, so several passages),
 * arXiv ids, categories, dates and authors. Deterministic for a seed.
 */
import { seededRandom } from "../../src/random.js";

export { seededRandom };

export interface SynthRecord {
  id: string;
  title: string;
  abstract: string;
  authors: string[];
  categories: string[];
  primary_category: string;
  date: string;
  source: string;
}


interface Field {
  category: string;
  methods: string[];
  tasks: string[];
  objects: string[];
  findings: string[];
}

const FIELDS: Field[] = [
  {
    category: "cs.LG",
    methods: ["contrastive pretraining", "sparse attention", "gradient boosting", "meta-learning", "low-rank adapters", "variational inference"],
    tasks: ["tabular classification", "few-shot transfer", "continual learning", "anomaly detection", "time series forecasting"],
    objects: ["benchmark datasets", "hidden representations", "loss landscapes", "training curves", "calibration errors"],
    findings: ["converges faster", "generalises better out of distribution", "needs fewer labelled examples", "is more robust to label noise"],
  },
  {
    category: "cs.CV",
    methods: ["vision transformers", "diffusion priors", "optical flow estimation", "neural radiance fields", "self-supervised distillation"],
    tasks: ["semantic segmentation", "depth estimation", "video object tracking", "image restoration", "pose estimation"],
    objects: ["street scenes", "satellite images", "medical scans", "indoor panoramas", "thermal footage"],
    findings: ["recovers sharper boundaries", "runs in real time on a phone", "halves the error on occluded regions", "transfers across camera types"],
  },
  {
    category: "cs.CL",
    methods: ["retrieval-augmented generation", "instruction tuning", "chain-of-thought prompting", "byte-level tokenisation", "preference optimisation"],
    tasks: ["machine translation", "question answering", "summarisation of legal texts", "dialogue state tracking", "code generation"],
    objects: ["low-resource languages", "long documents", "multilingual corpora", "clinical notes", "parliamentary debates"],
    findings: ["reduces hallucinated facts", "improves faithfulness", "closes the gap with larger models", "handles rare words better"],
  },
  {
    category: "quant-ph",
    methods: ["variational quantum eigensolvers", "surface code decoders", "tensor network simulation", "dynamical decoupling", "quantum walks"],
    tasks: ["ground state estimation", "error mitigation", "entanglement certification", "quantum state tomography", "qubit readout"],
    objects: ["trapped ions", "superconducting circuits", "photonic chips", "spin chains", "neutral atom arrays"],
    findings: ["suppresses decoherence", "scales to hundreds of qubits", "beats the classical baseline", "tolerates higher noise rates"],
  },
  {
    category: "astro-ph.GA",
    methods: ["spectral energy distribution fitting", "N-body simulations", "gravitational lensing maps", "radio interferometry", "Bayesian hierarchical models"],
    tasks: ["galaxy formation", "star cluster dynamics", "dark matter mapping", "black hole accretion", "interstellar dust modelling"],
    objects: ["dwarf galaxies", "globular clusters", "quasar spectra", "galaxy surveys", "molecular clouds"],
    findings: ["reveals a steeper density profile", "constrains the merger history", "detects faint tidal streams", "matches the observed luminosity function"],
  },
  {
    category: "q-bio.BM",
    methods: ["protein language models", "molecular dynamics", "graph neural networks", "cryo-electron microscopy", "docking simulations"],
    tasks: ["binding affinity prediction", "protein folding", "enzyme design", "drug repurposing", "antibody optimisation"],
    objects: ["membrane proteins", "small molecules", "viral capsids", "gene regulatory networks", "metabolic pathways"],
    findings: ["identifies new binding pockets", "predicts stability changes accurately", "ranks candidate drugs better", "explains mutation effects"],
  },
  {
    category: "math.OC",
    methods: ["convex relaxations", "stochastic gradient methods", "interior point solvers", "mirror descent", "dynamic programming"],
    tasks: ["portfolio allocation", "supply chain planning", "optimal control of power grids", "vehicle routing", "sensor placement"],
    objects: ["nonsmooth objectives", "uncertain constraints", "large sparse matrices", "network flows", "mixed integer programs"],
    findings: ["achieves linear convergence", "certifies global optimality", "cuts solve time by an order of magnitude", "remains stable under noise"],
  },
];

const ADJECTIVES = ["Scalable", "Robust", "Efficient", "Adaptive", "Interpretable", "Hierarchical", "Probabilistic", "Distributed", "Lightweight", "Unified"];
const FIRST = ["Ada", "Grace", "Alan", "Emmy", "Kurt", "Sofia", "Ravi", "Mei", "Lars", "Amara", "Tomás", "Yuki", "Olu", "Ingrid"];
const LAST = ["Lovelace", "Hopper", "Turing", "Noether", "Gödel", "Kovalevskaya", "Raman", "Chen", "Nilsson", "Okafor", "García", "Tanaka", "Adeyemi", "Berg"];

/** `n` synthetic records with arXiv ids 2501.00001, 2501.00002, ... */
export function synthPapers(n: number, seed = 1): SynthRecord[] {
  const rnd = seededRandom(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)]!;
  const titles = new Set<string>();
  const out: SynthRecord[] = [];
  for (let i = 0; out.length < n; i++) {
    const f = FIELDS[i % FIELDS.length]!;
    const method = pick(f.methods);
    const task = pick(f.tasks);
    const object = pick(f.objects);
    const title = `${pick(ADJECTIVES)} ${capitalise(method)} for ${capitalise(task)} on ${capitalise(object)}`;
    if (titles.has(title)) continue;
    titles.add(title);
    const other = pick(f.methods.filter((m) => m !== method));
    const sentences = [
      `We study ${task} on ${object}, a setting where existing approaches based on ${other} remain brittle.`,
      `Our approach combines ${method} with a ${pick(["simple", "principled", "data-driven", "modular"])} ${pick(["objective", "architecture", "training schedule", "estimator"])} tailored to ${object}.`,
      `On ${1 + Math.floor(rnd() * 9)} ${pick(["public", "new", "large", "curated"])} benchmarks the method ${pick(f.findings)}.`,
      `We analyse why ${method} ${pick(f.findings)} and relate it to properties of ${pick(f.objects)}.`,
      `Ablations show that each component matters, and that the gains persist for ${pick(f.tasks)}.`,
      `Finally we discuss limitations, open questions about ${pick(f.objects)}, and directions for ${pick(f.tasks)}.`,
    ];
    const extra = Math.floor(rnd() * 3);
    for (let e = 0; e < extra; e++) sentences.push(`A further experiment on ${pick(f.objects)} confirms that ${pick(f.methods)} ${pick(f.findings)}.`);
    const index = out.length + 1;
    const secondary = pick(FIELDS.filter((g) => g !== f)).category;
    const authors = Array.from({ length: 1 + Math.floor(rnd() * 4) }, () => `${pick(FIRST)} ${pick(LAST)}`);
    const month = 1 + Math.floor(rnd() * 12);
    const day = 1 + Math.floor(rnd() * 28);
    out.push({
      id: `2501.${String(index).padStart(5, "0")}`,
      title,
      abstract: sentences.join(" "),
      authors: [...new Set(authors)],
      categories: [f.category, secondary],
      primary_category: f.category,
      date: `${2020 + Math.floor(rnd() * 5)}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`,
      source: "synthetic",
    });
  }
  return out;
}

function capitalise(s: string): string {
  return s.replace(/(^|\s|-)([a-z])/g, (_, pre: string, c: string) => pre + c.toUpperCase());
}
