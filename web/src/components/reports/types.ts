// Meeting reports (compte rendu) and their exports (src/api/report_routes.cpp).
export interface ReportSentence {
  text: string;
  speaker?: string;
  start?: number;
  end?: number;
  segment_id?: string;
  audio_url?: string | null;
}
export interface ReportAction {
  who: string;
  what: string;
  due_date: string | null;
  due_text?: string;
  start?: number;
  segment_id?: string;
}
export interface Report {
  id: string;
  client_id: string;
  meeting_id: string | null;
  recording_id: string | null;
  mode: string;
  status: 'generating' | 'draft' | 'reviewed' | 'failed';
  error: { code: string; message: string } | null;
  job_id: string | null;
  reviewed_at: string | null;
  created_at: string;
  updated_at: string;
  version: number;
  title: string | null;
  header: { firm?: string; client?: string; date?: string; participants?: string[] } | null;
  summary: ReportSentence[] | null;
  decisions: ReportSentence[] | null;
  actions: ReportAction[] | null;
  excerpts: ReportSentence[] | null;
}
export interface ReportExport {
  id: string;
  source: string;
  source_id: string;
  format: 'docx' | 'pdf';
  status: 'queued' | 'done' | 'failed';
  document_id: string | null;
  download_url: string | null;
  job_id: string | null;
  error: { code: string; message: string } | null;
}
export interface JobProgress {
  id: string;
  state: string;
  progress: { percent: number; stage: string | null; eta_seconds: number | null };
}
