package directory

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// A repeated look-up is the same frozen answer; an import makes a new
// snapshot whose answers show the new data, never the old answer.
func TestAnswersCachedPerSnapshot(t *testing.T) {
	s := openService(t)
	first := s.Snapshot().cachedAnswer(answerContact, "canada")
	again := s.Snapshot().cachedAnswer(answerContact, "canada")
	if first != again || !first.Frozen {
		t.Fatalf("repeat not served from the cache (same %v, frozen %v)", first == again, first.Frozen)
	}
	if other := s.Snapshot().cachedAnswer(answerContact, "Canada"); other == first {
		t.Fatal(`"Canada" shares the answer of "canada", whose title quotes the query as typed`)
	}
	if office := s.Snapshot().cachedAnswer(answerOffice, "canada"); office == first {
		t.Fatal("office and contact share one cache entry")
	}
	if fieldValue(first.Sections[0].Fields, "Security contacts") == "" {
		t.Fatalf("answer before import has no contacts line: %+v", first.Sections[0].Fields)
	}

	contacts := readCSV(t, "contacts.csv", "mission_id,name,title,phone,email\nemb-dc-canada,Jordan Avery,Liaison,202-555-0101,\n")
	if _, err := s.Import(context.Background(), contacts, false, false); err != nil {
		t.Fatal(err)
	}
	after := s.Snapshot().cachedAnswer(answerContact, "canada")
	if after == first {
		t.Fatal("the answer from before the import was served after it")
	}
	if got := fieldValue(after.Sections[0].Fields, "Security contact"); !strings.Contains(got, "Jordan Avery") {
		t.Fatalf("answer after import lacks the imported contact: %q", got)
	}
}

func TestAnswerCacheBounds(t *testing.T) {
	s := openService(t)
	snap := s.Snapshot()
	long := strings.Repeat("canada ", maxCachedQuery/7+1)
	if a, b := snap.cachedAnswer(answerContact, long), snap.cachedAnswer(answerContact, long); a == b || a.Frozen {
		t.Fatal("a query longer than maxCachedQuery was cached")
	}
	for i := range maxCachedAnswers + 50 {
		snap.cachedAnswer(answerOffice, fmt.Sprintf("%d,-77", i%90))
		snap.cachedAnswer(answerContact, fmt.Sprintf("nowhere %d", i))
	}
	if n := snap.answers.Len(); n > maxCachedAnswers {
		t.Fatalf("cache holds %d answers, bound %d", n, maxCachedAnswers)
	}
}
