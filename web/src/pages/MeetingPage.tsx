import { Title } from '@mantine/core';

export default function MeetingPage() {
  return <Title order={1}>MeetingPage</Title>;
}
