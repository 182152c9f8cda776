package incident

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"liaisonbot/bot"
	"liaisonbot/bot/store"
	"liaisonbot/bot/store/boltstore"
	"liaisonbot/config"
)

// BenchmarkIncidentList answers `incident list` over a history of 100,000
// incidents, 500 of them open: the open list reads the open set only, the
// full list reads the newest 50 and counts the rest from keys.
func BenchmarkIncidentList(b *testing.B) {
	const total, open = 100_000, 500
	db, err := boltstore.Open(filepath.Join(b.TempDir(), "bench.db"), boltstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	cfg, err := config.Parse([]byte(testConfig), "bench.yaml", nil)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	author := Author{ID: "u1", Name: "Agent Smith", Agency: Division, Platform: bot.Slack}
	const batch = 10_000
	for from := 1; from <= total; from += batch {
		err := db.Update(context.Background(), func(tx store.Tx) error {
			for i := from; i < from+batch && i <= total; i++ {
				seq, err := tx.NextSequence(bucketSeq)
				if err != nil {
					return err
				}
				t := start.Add(time.Duration(i) * 10 * time.Minute)
				m := testMissions[i%len(testMissions)]
				inc := &Incident{
					ID: FormatID(t.Year(), seq), Seq: seq, MissionID: m.ID, MissionName: m.Name, MissionPlace: m.Place(),
					Severity: 1 + i%4, Status: StatusOpen, Summary: fmt.Sprintf("Synthetic incident %d at the front gate", i),
					Partners: []string{"mpd", "uspp"}[:1+i%2], OpenedBy: author, Opened: t,
					Threads: []Thread{
						{Partner: "mpd", Platform: bot.Slack, Channel: "C0MPD", Ref: fmt.Sprintf("1700%06d.000100", i), OutboxID: fmt.Sprintf("ob-%012d", 2*i), Opened: t},
						{Partner: "mpd", Platform: bot.Mattermost, Channel: "mm-mpd", Ref: fmt.Sprintf("post%08d", i), OutboxID: fmt.Sprintf("ob-%012d", 2*i+1), Opened: t},
					},
				}
				entries := []Entry{
					{Time: t, Kind: KindOpened, Author: author, Text: inc.Summary},
					{Time: t.Add(5 * time.Minute), Kind: KindReply, Author: Author{Name: "Sgt. Lee", Agency: "MPD", Partner: "mpd", Platform: bot.Mattermost}, Text: "Two units on scene", Source: "mattermost:mm-mpd:p"},
					{Time: t.Add(7 * time.Minute), Kind: KindUpdate, Author: author, Text: "Crowd dispersing"},
				}
				for _, en := range entries {
					if err := appendEntry(tx, inc, en); err != nil {
						return err
					}
				}
				// The open ones are spread over the history.
				if i%(total/open) != 0 {
					if err := appendEntry(tx, inc, Entry{Time: t.Add(9 * time.Minute), Kind: KindClosed, Author: author, Text: "All clear"}); err != nil {
						return err
					}
					inc.Status, inc.Closed, inc.Resolution = StatusClosed, t.Add(9*time.Minute), "All clear"
				}
				if err := index(tx, inc); err != nil {
					return err
				}
				if err := save(tx, inc); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	svc := New(Options{Store: db, Config: cfg, Directory: fakeDirectory{}})
	mux := bot.NewMux("liaison", nil)
	mux.Use(bot.Authorize(mux))
	svc.Register(mux)

	for _, bc := range []struct {
		name, text string
		role       bot.Role
		want       string
	}{
		{"open", "incident list", agent, fmt.Sprintf("Open incidents: %d", open)},
		{"all", "incident list all", agent, fmt.Sprintf("All incidents, newest first: %d", total)},
		{"all-partner", "incident list all", asUSPP, fmt.Sprintf("All incidents, newest first: %d", total/2)},
		{"open-mission", "incident list open mission:emb-dc-canada", agent, "Open incidents for missions matching \"emb-dc-canada\": 500"},
		{"all-mission", "incident list all mission:houston", agent, "All incidents, newest first for missions matching \"houston\": 25000"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			req := func() *bot.Request {
				return &bot.Request{Platform: bot.Console, Channel: "console", User: bot.User{ID: "u1"}, Role: bc.role, Text: bc.text}
			}
			if m := mux.Serve(context.Background(), req()); m.Error || m.Title != bc.want {
				b.Fatalf("%q: %q %q", bc.text, m.Title, m.Text)
			}
			b.ReportAllocs()
			for b.Loop() {
				mux.Serve(context.Background(), req())
			}
		})
	}
}
