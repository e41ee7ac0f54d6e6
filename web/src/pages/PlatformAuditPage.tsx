// The platform's own audit log: firms created, the platform admin acting in a firm (start, stop)
// and its retries of firms' jobs.
import { AuditLog } from './AuditPage';

export default function PlatformAuditPage() {
  return <AuditLog platform />;
}
