// Documents of a client's file (src/api/document_routes.cpp).
export interface DocumentText {
  state: 'pending' | 'searchable' | 'not_searchable';
  searchable: boolean;
  pages: number | null;
  error: { code: string; message: string } | null;
}
export interface Doc {
  id: string;
  client_id: string;
  meeting_id: string | null;
  name: string;
  content_type: string;
  size_bytes: number;
  sha256: string;
  current_version: number;
  text: DocumentText;
  download_url: string;
  created_at: string;
  updated_at: string;
  version: number;
}
export interface DocVersion {
  number: number;
  original_name: string;
  content_type: string;
  size_bytes: number;
  sha256: string;
  created_by: string | null;
  created_at: string;
}

// A short, readable name of a content type ("PDF", "Word", …) for the list.
export function kindOf(contentType: string): string {
  const t = contentType.split(';')[0].trim();
  if (t === 'application/pdf') return 'PDF';
  if (t.includes('wordprocessingml') || t === 'application/msword') return 'Word';
  if (t.includes('spreadsheetml') || t === 'application/vnd.ms-excel') return 'Excel';
  if (t.includes('presentationml')) return 'PowerPoint';
  if (t.startsWith('application/vnd.oasis.opendocument.text')) return 'ODT';
  if (t.startsWith('image/')) return t.slice(6).toUpperCase();
  if (t.startsWith('audio/')) return 'Audio';
  if (t === 'text/plain') return 'TXT';
  if (t.startsWith('text/')) return t.slice(5).toUpperCase();
  return t;
}
