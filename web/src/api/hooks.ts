// Shared queries and the resource types the pages use.
import { useQuery } from '@tanstack/react-query';
import { api, type Page } from './client';

export interface User {
  id: string;
  email: string;
  name: string;
  role: string;
  disabled: boolean | number;
  created_at: string;
}
export interface Client {
  id: string;
  version: number;
  kind: 'person' | 'company' | null;
  name: string;
  company: string | null;
  email: string | null;
  phone: string | null;
  address: string | null;
  tags: string[];
  notes: string | null;
  reference: string | null;
  owner_user_id: string | null;
  created_at: string;
  updated_at: string;
}
export interface Contact {
  id: string;
  version: number;
  client_id: string;
  name: string;
  email: string | null;
  phone: string | null;
  role: string | null;
}
export interface Participant {
  user_id?: string;
  contact_id?: string;
  name?: string;
  email?: string;
}
export interface Meeting {
  id: string;
  version: number;
  client_id: string;
  title: string;
  starts_at: string;
  duration_minutes: number | null;
  location: string | null;
  video_link: string | null;
  notes: string | null;
  participants: Participant[];
}
export interface Task {
  id: string;
  version: number;
  title: string;
  notes: string | null;
  due_date: string | null;
  assignee_user_id: string | null;
  status: 'todo' | 'in_progress' | 'done' | 'cancelled';
  client_id: string | null;
  meeting_id: string | null;
}
export interface Processing {
  state: string;  // pending, queued, processing, done, failed, cancelled
  stage?: string | null;
  progress?: number;  // percent
  eta_seconds?: number | null;
  error?: { code?: string; message?: string } | null;
}
export interface Recording {
  id: string;
  title: string | null;
  original_name: string | null;
  meeting_id: string | null;
  client_id: string | null;
  media?: { duration_seconds?: number; container?: string; has_video?: boolean };
  size_bytes?: number;
  status?: string;
  consent: boolean;
  job_id: string | null;
  processing: Processing;
  created_at: string;
}

export function useUsers(enabled = true) {
  return useQuery({ queryKey: ['users'], queryFn: () => api.get<Page<User>>('/api/users'), staleTime: 60_000, enabled });
}

export function userName(users: User[] | undefined, id: string | null | undefined): string {
  if (!id) return '';
  const u = users?.find((x) => x.id === id);
  return u ? u.name || u.email : '';
}
