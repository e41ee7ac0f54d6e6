// The platform admin's outbox: every firm's mails.
import { Outbox } from './OutboxPage';

export default function PlatformOutboxPage() {
  return <Outbox platform />;
}
