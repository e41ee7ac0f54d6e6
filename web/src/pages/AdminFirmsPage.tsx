import { Title } from '@mantine/core';

export default function AdminFirmsPage() {
  return <Title order={1}>AdminFirmsPage</Title>;
}
