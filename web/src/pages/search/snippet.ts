// The server's search snippet is HTML-escaped text with matches in <mark>…</mark>. It is turned
// into parts to render as React nodes, never injected as HTML: nothing the server returns can
// become markup.
export interface SnippetPart {
  text: string;
  mark: boolean;
}

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'", '&#x27;': "'" };

function unescape(s: string): string {
  return s.replace(/&(amp|lt|gt|quot|#39|#x27);/g, (m) => ENTITIES[m] ?? m);
}

export function snippetParts(snippet: string): SnippetPart[] {
  const out: SnippetPart[] = [];
  const re = /<mark>([\s\S]*?)<\/mark>/g;
  let at = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(snippet)) !== null) {
    if (m.index > at) out.push({ text: unescape(snippet.slice(at, m.index)), mark: false });
    out.push({ text: unescape(m[1]), mark: true });
    at = m.index + m[0].length;
  }
  if (at < snippet.length) out.push({ text: unescape(snippet.slice(at)), mark: false });
  return out;
}

// Where a transcript hit opens: the recording's page at the segment's second, playing.
export function hitLink(recordingId: string, start: number | null): string {
  const t = start === null ? 0 : Math.max(0, Math.floor(start * 10) / 10);
  return `/recordings/${encodeURIComponent(recordingId)}?t=${t}&play=1`;
}
