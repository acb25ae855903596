// Turns the README's code blocks into one bash script, so the docs run as written.

/** A fenced block: its language, the words after it, and its text. */
export interface CodeBlock {
  lang: string;
  words: string[];
  text: string;
  line: number;
}

/** Every fenced block of a Markdown text, in order. */
export function codeBlocks(markdown: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S+)(.*)$/.exec(lines[i] ?? "");
    if (!open) continue;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && lines[j] !== "```"; j++) body.push(lines[j] ?? "");
    if (j === lines.length) throw new Error(`README line ${i + 1}: a code block is never closed`);
    blocks.push({
      lang: open[1] ?? "",
      words: (open[2] ?? "").trim().split(/\s+/).filter(Boolean),
      text: body.join("\n"),
      line: i + 1,
    });
    i = j;
  }
  return blocks;
}

/**
 * The script: each `sh` block as it is, and each `ts` block marked `file=NAME` written to NAME
 * in the shell's directory at that point. Blocks marked `skip-ci` (they need AWS, a cluster or
 * a GPU) are left out; any other `ts` block is an error, so a new one cannot go unrun.
 */
export function readmeScript(markdown: string): string {
  const parts = ["set -euo pipefail"];
  for (const block of codeBlocks(markdown)) {
    if (block.words.includes("skip-ci")) continue;
    if (block.lang === "sh") {
      parts.push(`# README line ${block.line}\n${block.text}`);
    } else if (block.lang === "ts") {
      const file = block.words.find((w) => w.startsWith("file="))?.slice("file=".length);
      if (!file)
        throw new Error(`README line ${block.line}: a ts block needs file=NAME or skip-ci`);
      parts.push(`cat >${file} <<'README_EOF'\n${block.text}\nREADME_EOF`);
    }
  }
  return `${parts.join("\n\n")}\n`;
}
