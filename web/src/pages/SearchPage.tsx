// Search across the firm's transcripts and records (pages/search/).
import { SearchScreen } from './search/SearchScreen';

export default function SearchPage() {
  return <SearchScreen />;
}
