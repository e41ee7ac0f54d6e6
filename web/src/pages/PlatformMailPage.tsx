// One mail of any firm, for the platform admin.
import { MailView } from './MailPage';

export default function PlatformMailPage() {
  return <MailView platform />;
}
