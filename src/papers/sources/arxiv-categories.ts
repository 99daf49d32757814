/**
 * arXiv category names → codes, for OAI-PMH `oai_dc` records, whose <dc:subject> gives categories
 * by name ("Computer Science - Machine Learning") rather than code (cs.LG).
 *
 * A subject is "<archive name> - <category name>" for archives with subject classes (cs, math,
 * physics, ...) and the archive's own name for single-category archives ("Quantum Physics",
 * "High Energy Physics - Theory"). Names arXiv used to give a category (cs.LG was "Learning"
 * until 2019) are listed too. MSC / ACM class subjects ("11N05 (Primary)", "H.5.2") are not
 * categories and have no entry. Also the archives a category code may start with, current and former.
 */
import { categoryList, isArxivCategoryCode } from "../checks.js";

/** Archive code → the name that prefixes its categories' subjects. */
const ARCHIVE_NAMES: Record<string, string> = {
  "astro-ph": "Astrophysics",
  "cond-mat": "Condensed Matter",
  cs: "Computer Science",
  econ: "Economics",
  eess: "Electrical Engineering and Systems Science",
  math: "Mathematics",
  nlin: "Nonlinear Sciences",
  physics: "Physics",
  "q-bio": "Quantitative Biology",
  "q-fin": "Quantitative Finance",
  stat: "Statistics",
};

/** Category code → name (within its archive). Several names for one code: current name first. */
const CATEGORY_NAMES: Record<string, string[]> = {
  "astro-ph.CO": ["Cosmology and Nongalactic Astrophysics"],
  "astro-ph.EP": ["Earth and Planetary Astrophysics"],
  "astro-ph.GA": ["Astrophysics of Galaxies"],
  "astro-ph.HE": ["High Energy Astrophysical Phenomena"],
  "astro-ph.IM": ["Instrumentation and Methods for Astrophysics"],
  "astro-ph.SR": ["Solar and Stellar Astrophysics"],
  "cond-mat.dis-nn": ["Disordered Systems and Neural Networks"],
  "cond-mat.mes-hall": ["Mesoscale and Nanoscale Physics"],
  "cond-mat.mtrl-sci": ["Materials Science"],
  "cond-mat.other": ["Other Condensed Matter", "Other"],
  "cond-mat.quant-gas": ["Quantum Gases"],
  "cond-mat.soft": ["Soft Condensed Matter"],
  "cond-mat.stat-mech": ["Statistical Mechanics"],
  "cond-mat.str-el": ["Strongly Correlated Electrons"],
  "cond-mat.supr-con": ["Superconductivity"],
  "cs.AI": ["Artificial Intelligence"],
  "cs.AR": ["Hardware Architecture"],
  "cs.CC": ["Computational Complexity"],
  "cs.CE": ["Computational Engineering, Finance, and Science"],
  "cs.CG": ["Computational Geometry"],
  "cs.CL": ["Computation and Language"],
  "cs.CR": ["Cryptography and Security"],
  "cs.CV": ["Computer Vision and Pattern Recognition"],
  "cs.CY": ["Computers and Society"],
  "cs.DB": ["Databases"],
  "cs.DC": ["Distributed, Parallel, and Cluster Computing"],
  "cs.DL": ["Digital Libraries"],
  "cs.DM": ["Discrete Mathematics"],
  "cs.DS": ["Data Structures and Algorithms"],
  "cs.ET": ["Emerging Technologies"],
  "cs.FL": ["Formal Languages and Automata Theory"],
  "cs.GL": ["General Literature"],
  "cs.GR": ["Graphics"],
  "cs.GT": ["Computer Science and Game Theory"],
  "cs.HC": ["Human-Computer Interaction"],
  "cs.IR": ["Information Retrieval"],
  "cs.IT": ["Information Theory"],
  "cs.LG": ["Machine Learning", "Learning"],
  "cs.LO": ["Logic in Computer Science"],
  "cs.MA": ["Multiagent Systems"],
  "cs.MM": ["Multimedia"],
  "cs.MS": ["Mathematical Software"],
  "cs.NA": ["Numerical Analysis"],
  "cs.NE": ["Neural and Evolutionary Computing"],
  "cs.NI": ["Networking and Internet Architecture"],
  "cs.OH": ["Other Computer Science", "Other"],
  "cs.OS": ["Operating Systems"],
  "cs.PF": ["Performance"],
  "cs.PL": ["Programming Languages"],
  "cs.RO": ["Robotics"],
  "cs.SC": ["Symbolic Computation"],
  "cs.SD": ["Sound"],
  "cs.SE": ["Software Engineering"],
  "cs.SI": ["Social and Information Networks"],
  "cs.SY": ["Systems and Control"],
  "econ.EM": ["Econometrics"],
  "econ.GN": ["General Economics"],
  "econ.TH": ["Theoretical Economics"],
  "eess.AS": ["Audio and Speech Processing"],
  "eess.IV": ["Image and Video Processing"],
  "eess.SP": ["Signal Processing"],
  "eess.SY": ["Systems and Control"],
  "math.AC": ["Commutative Algebra"],
  "math.AG": ["Algebraic Geometry"],
  "math.AP": ["Analysis of PDEs"],
  "math.AT": ["Algebraic Topology"],
  "math.CA": ["Classical Analysis and ODEs"],
  "math.CO": ["Combinatorics"],
  "math.CT": ["Category Theory"],
  "math.CV": ["Complex Variables"],
  "math.DG": ["Differential Geometry"],
  "math.DS": ["Dynamical Systems"],
  "math.FA": ["Functional Analysis"],
  "math.GM": ["General Mathematics"],
  "math.GN": ["General Topology"],
  "math.GR": ["Group Theory"],
  "math.GT": ["Geometric Topology"],
  "math.HO": ["History and Overview"],
  "math.IT": ["Information Theory"],
  "math.KT": ["K-Theory and Homology"],
  "math.LO": ["Logic"],
  "math.MG": ["Metric Geometry"],
  "math.MP": ["Mathematical Physics"],
  "math.NA": ["Numerical Analysis"],
  "math.NT": ["Number Theory"],
  "math.OA": ["Operator Algebras"],
  "math.OC": ["Optimization and Control"],
  "math.PR": ["Probability"],
  "math.QA": ["Quantum Algebra"],
  "math.RA": ["Rings and Algebras"],
  "math.RT": ["Representation Theory"],
  "math.SG": ["Symplectic Geometry"],
  "math.SP": ["Spectral Theory"],
  "math.ST": ["Statistics Theory", "Statistics"],
  "nlin.AO": ["Adaptation and Self-Organizing Systems"],
  "nlin.CD": ["Chaotic Dynamics"],
  "nlin.CG": ["Cellular Automata and Lattice Gases"],
  "nlin.PS": ["Pattern Formation and Solitons"],
  "nlin.SI": ["Exactly Solvable and Integrable Systems"],
  "physics.acc-ph": ["Accelerator Physics"],
  "physics.ao-ph": ["Atmospheric and Oceanic Physics"],
  "physics.app-ph": ["Applied Physics"],
  "physics.atm-clus": ["Atomic and Molecular Clusters"],
  "physics.atom-ph": ["Atomic Physics"],
  "physics.bio-ph": ["Biological Physics"],
  "physics.chem-ph": ["Chemical Physics"],
  "physics.class-ph": ["Classical Physics"],
  "physics.comp-ph": ["Computational Physics"],
  "physics.data-an": ["Data Analysis, Statistics and Probability"],
  "physics.ed-ph": ["Physics Education"],
  "physics.flu-dyn": ["Fluid Dynamics"],
  "physics.gen-ph": ["General Physics"],
  "physics.geo-ph": ["Geophysics"],
  "physics.hist-ph": ["History and Philosophy of Physics"],
  "physics.ins-det": ["Instrumentation and Detectors"],
  "physics.med-ph": ["Medical Physics"],
  "physics.optics": ["Optics"],
  "physics.plasm-ph": ["Plasma Physics"],
  "physics.pop-ph": ["Popular Physics"],
  "physics.soc-ph": ["Physics and Society"],
  "physics.space-ph": ["Space Physics"],
  "q-bio.BM": ["Biomolecules"],
  "q-bio.CB": ["Cell Behavior"],
  "q-bio.GN": ["Genomics"],
  "q-bio.MN": ["Molecular Networks"],
  "q-bio.NC": ["Neurons and Cognition"],
  "q-bio.OT": ["Other Quantitative Biology", "Other"],
  "q-bio.PE": ["Populations and Evolution"],
  "q-bio.QM": ["Quantitative Methods"],
  "q-bio.SC": ["Subcellular Processes"],
  "q-bio.TO": ["Tissues and Organs"],
  "q-fin.CP": ["Computational Finance"],
  "q-fin.EC": ["Economics"],
  "q-fin.GN": ["General Finance"],
  "q-fin.MF": ["Mathematical Finance"],
  "q-fin.PM": ["Portfolio Management"],
  "q-fin.PR": ["Pricing of Securities"],
  "q-fin.RM": ["Risk Management"],
  "q-fin.ST": ["Statistical Finance"],
  "q-fin.TR": ["Trading and Market Microstructure"],
  "stat.AP": ["Applications"],
  "stat.CO": ["Computation"],
  "stat.ME": ["Methodology"],
  "stat.ML": ["Machine Learning"],
  "stat.OT": ["Other Statistics"],
  "stat.TH": ["Statistics Theory"],
};

/** Archives that are a category themselves; the subject is the archive's name alone. */
const STANDALONE: Record<string, string> = {
  "gr-qc": "General Relativity and Quantum Cosmology",
  "hep-ex": "High Energy Physics - Experiment",
  "hep-lat": "High Energy Physics - Lattice",
  "hep-ph": "High Energy Physics - Phenomenology",
  "hep-th": "High Energy Physics - Theory",
  "math-ph": "Mathematical Physics",
  "nucl-ex": "Nuclear Experiment",
  "nucl-th": "Nuclear Theory",
  "quant-ph": "Quantum Physics",
  // Whole archives used as categories by old papers (astro-ph until 2009, cond-mat until 2004, q-bio until 2003).
  "astro-ph": "Astrophysics",
  "cond-mat": "Condensed Matter",
  "q-bio": "Quantitative Biology",
};

/** Archives merged into others in the 1990s (solv-int → nlin.SI): old papers still carry them as categories. */
const FORMER_ARCHIVES = [
  "acc-phys", "adap-org", "alg-geom", "ao-sci", "atom-ph", "bayes-an", "chao-dyn", "chem-ph", "cmp-lg",
  "comp-gas", "dg-ga", "funct-an", "mtrl-th", "patt-sol", "plasm-ph", "q-alg", "solv-int", "supr-con",
];

const ARCHIVES: ReadonlySet<string> = new Set([...Object.keys(ARCHIVE_NAMES), ...Object.keys(STANDALONE), ...FORMER_ARCHIVES]);

/** Whether arXiv has or had this archive ("cs", "hep-th", "solv-int"): the part of a category code before the dot. */
export function isArxivArchive(archive: string): boolean {
  return ARCHIVES.has(archive);
}

const BY_SUBJECT: ReadonlyMap<string, string> = (() => {
  const m = new Map<string, string>();
  for (const [code, name] of Object.entries(STANDALONE)) m.set(name.toLowerCase(), code);
  for (const [code, names] of Object.entries(CATEGORY_NAMES)) {
    const archive = ARCHIVE_NAMES[code.slice(0, code.indexOf("."))]!;
    for (const name of names) {
      const key = `${archive} - ${name}`.toLowerCase();
      if (!m.has(key)) m.set(key, code);
    }
  }
  return m;
})();

/** The category code of an oai_dc subject ("Computer Science - Learning" → "cs.LG"); undefined for other subjects. */
export function categoryOfSubject(subject: string): string | undefined {
  return BY_SUBJECT.get(subject.replace(/\s+/g, " ").trim().toLowerCase());
}

/** The current name of a category code within its archive ("cs.CL" → "Computation and Language"); undefined if unknown. */
export function categoryName(code: string): string | undefined {
  return CATEGORY_NAMES[code]?.[0] ?? STANDALONE[code];
}

/**
 * A list of categories as a user types it ("cs.lg, CS.ai stat.ML"), in arXiv's spelling, each once;
 * only categories and archives arXiv has (a typo would follow nothing, silently, every day).
 * Throws a RangeError naming the unknown ones.
 */
export function knownCategories(raw: string): string[] {
  const list = categoryList(raw);
  const bad = list.filter((c) => !isArxivCategoryCode(c) || (categoryName(c) === undefined && !isArxivArchive(c)));
  if (bad.length > 0) throw new RangeError(`not an arXiv category: ${bad.join(", ")} (expected e.g. cs.LG, cs.CL, stat.ML or an archive such as cs)`);
  return list;
}
