import { Title } from '@mantine/core';

export default function TasksPage() {
  return <Title order={1}>TasksPage</Title>;
}
