// Where sending the reviewed report by mail (with its PDF) belongs, beside the exports. The mail
// module (outbox) fills it; until then it renders nothing, so the report page needs no change
// when it arrives: replace the body of this component with the send button and its dialog.
import type { Report } from './types';

export function ReportSendSlot(_props: { report: Report }) {
  return null;
}
