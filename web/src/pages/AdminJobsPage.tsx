import { Title } from '@mantine/core';

export default function AdminJobsPage() {
  return <Title order={1}>AdminJobsPage</Title>;
}
