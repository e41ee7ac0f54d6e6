import { Title } from '@mantine/core';

export default function ClientPage() {
  return <Title order={1}>ClientPage</Title>;
}
