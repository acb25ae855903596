// Structure drawings for the report: RDKit's own SVG depiction of each SMILES, inlined so the
// page stays one file that opens offline.
import { loadRDKit } from "../chem/index.ts";

/** Width and height of one drawing, px. */
const WIDTH = 180;
const HEIGHT = 140;

/**
 * SMILES -> inline SVG markup (RDKit's get_svg); a SMILES RDKit cannot parse gets no drawing.
 * The XML declaration is dropped (it is not allowed inside HTML) and anything but a plain
 * drawing (a script, an event handler) is refused, since the SMILES come from a run directory.
 */
export async function drawMolecules(smiles: readonly string[]): Promise<Map<string, string>> {
  const rdkit = await loadRDKit();
  const drawings = new Map<string, string>();
  for (const s of new Set(smiles)) {
    const mol = rdkit.get_mol(s);
    if (mol === null) continue;
    try {
      if (!mol.is_valid()) continue;
      const svg = mol.get_svg(WIDTH, HEIGHT).replace(/^<\?xml[^>]*\?>\s*/, "");
      if (svg.startsWith("<svg") && !/<script|\son\w+\s*=/i.test(svg)) drawings.set(s, svg);
    } finally {
      mol.delete();
    }
  }
  return drawings;
}
