// Mails of the firm's outbox (written first, then sent by a job with retries) and what the
// report's send dialog checks before the server does.
import type { operations } from '../../api/schema';

// The body POST /api/reports/{id}/mail takes, as the server's OpenAPI document describes it.
export type SendReportBody = operations['POST_api_reports__id__mail']['requestBody']['content']['application/json'];
export type MailStatus = 'queued' | 'sending' | 'sent' | 'failed' | 'kept';
export type MailKind = 'invitation' | 'password_reset' | 'report' | 'task_reminder';
export const MAIL_STATUSES: MailStatus[] = ['queued', 'sending', 'sent', 'failed', 'kept'];

export interface MailAttachment {
  id: string;
  file_name: string;
  content_type: string;
  size: number;
}
export interface Mail {
  id: string;
  firm_id?: string | null;
  kind: MailKind;
  status: MailStatus;
  to: string[];
  cc: string[];
  subject: string;
  attempts: number;
  last_error: string | { code?: string; message?: string } | null;
  max_attempts?: number;
  language?: string;
  // A password-reset mail's body is its recipient's alone: the firm sees that it was sent.
  redacted?: boolean;
  created_at: string;
  sent_at: string | null;
  report_id: string | null;
  attachments: MailAttachment[];
  // Only on one mail (GET /api/mails/{id}).
  html?: string | null;
  text?: string | null;
}

// A mail still on its way: its list is read again until it is not.
export function inFlight(m: Pick<Mail, 'status'>): boolean {
  return m.status === 'queued' || m.status === 'sending';
}

export function lastErrorText(e: Mail['last_error']): string {
  if (!e) return '';
  return typeof e === 'string' ? e : e.message ?? e.code ?? '';
}

// Deliberately loose (the server has the last word): one @, no space, a dot in the domain.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
export const MAX_RECIPIENTS = 20;
export const MAX_SUBJECT = 200;
export const MAX_MESSAGE = 10000;

export interface SendValues {
  to: string[];
  cc: string[];
  subject: string;
  message: string;
  language: 'fr' | 'en';
}
export type SendErrors = Partial<Record<keyof SendValues, string>>;

// Field → validation key (the catalogue's validation.* messages), empty when all is well.
export function validateSend(v: SendValues): SendErrors {
  const out: SendErrors = {};
  const bad = (list: string[]) => list.some((a) => !EMAIL.test(a.trim()));
  if (v.to.length === 0) out.to = 'recipient_required';
  else if (bad(v.to)) out.to = 'invalid_email';
  else if (v.to.length > MAX_RECIPIENTS) out.to = 'too_many';
  if (bad(v.cc)) out.cc = 'invalid_email';
  else if (v.cc.length > MAX_RECIPIENTS) out.cc = 'too_many';
  if (v.subject.trim().length > MAX_SUBJECT) out.subject = 'too_long';
  if (v.message.length > MAX_MESSAGE) out.message = 'too_long';
  return out;
}

// The body of POST /api/reports/{id}/mail: addresses trimmed and unique, empty fields left out.
export function sendBody(v: SendValues): SendReportBody {
  const uniq = (l: string[]) => [...new Set(l.map((a) => a.trim()).filter(Boolean))];
  const body: SendReportBody = { to: uniq(v.to), cc: uniq(v.cc), language: v.language };
  if (v.subject.trim()) body.subject = v.subject.trim();
  if (v.message.trim()) body.message = v.message.trim();
  return body;
}

// A 422's details named by the body's paths ("to", "to[1]", "to.1", "cc[0]"…) → the form's fields.
export function fieldOf(path: string): keyof SendValues | null {
  const m = /^(to|cc|subject|message|language)\b/.exec(path);
  return m ? (m[1] as keyof SendValues) : null;
}
