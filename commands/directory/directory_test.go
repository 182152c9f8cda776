package directory

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"liaisonbot/bot"
	"liaisonbot/bot/store/boltstore"
	"liaisonbot/commands/directory/dirdata"
)

func openService(t *testing.T) *Service {
	t.Helper()
	db, err := boltstore.Open(filepath.Join(t.TempDir(), "d.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func readCSV(t *testing.T, name, data string) *dirdata.File {
	t.Helper()
	f, err := dirdata.Read(name, strings.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func exportJSON(t *testing.T, s *Service) string {
	t.Helper()
	d, err := s.Export(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := dirdata.WriteJSON(&b, d); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestSeededOnFirstStart(t *testing.T) {
	s := openService(t)
	snap := s.Snapshot()
	if len(snap.Offices) != 31 || len(snap.Missions) != 63 {
		t.Fatalf("seeded %d offices, %d missions", len(snap.Offices), len(snap.Missions))
	}
	for _, m := range snap.Missions {
		if len(m.Contacts) > 0 {
			t.Fatalf("bundled data carries contacts for %s: fictional samples must never be the default", m.ID)
		}
	}
	if h, ok := snap.Headquarters("command-center"); !ok || h.Phone != "571-345-3146" {
		t.Fatalf("command center = %+v", h)
	}
}

func TestImportSemantics(t *testing.T) {
	ctx := context.Background()
	s := openService(t)
	contacts := readCSV(t, "contacts.csv", "mission_id,name,title,phone,email\nemb-dc-canada,Jordan Avery,Liaison,202-555-0101,j.avery@example.org\n")
	rep, err := s.Import(ctx, contacts, false, false)
	if err != nil {
		t.Fatal(err)
	}
	if k := rep.Kinds[0]; k.Kind != "contacts" || k.Added != 1 {
		t.Fatalf("report %+v", rep.Kinds)
	}
	if m, _ := s.Snapshot().Mission("emb-dc-canada"); len(m.Contacts) != 1 || m.Contacts[0].Name != "Jordan Avery" {
		t.Fatalf("contacts not applied: %+v", m)
	}

	// A missions file without contacts keeps the contacts on file.
	missions := readCSV(t, "missions.csv", "id,country,kind,name,city,state,address,lat,lon\nemb-dc-canada,Canada,embassy,Embassy of Canada,Washington,DC,501 Pennsylvania Avenue NW,38.892805,-77.018351\n")
	if _, err := s.Import(ctx, missions, false, false); err != nil {
		t.Fatal(err)
	}
	if m, _ := s.Snapshot().Mission("emb-dc-canada"); len(m.Contacts) != 1 {
		t.Fatalf("missions import wiped contacts: %+v", m.Contacts)
	}

	// A contact for an unknown mission fails with its line, and nothing changes.
	before := exportJSON(t, s)
	bad := readCSV(t, "contacts.csv", "mission_id,name,title,phone,email\nemb-dc-canada,New Person,,202-555-0109,\nemb-dc-atlantis,Nobody,,,\n")
	_, err = s.Import(ctx, bad, false, false)
	var le *dirdata.LineError
	if !errors.As(err, &le) || le.Line != 3 || le.Field != "mission_id" {
		t.Fatalf("error = %v, want a line error at line 3, field mission_id", err)
	}
	if exportJSON(t, s) != before {
		t.Fatal("a failed import changed the directory")
	}

	// A dry run counts and changes nothing.
	rep, err = s.Import(ctx, readCSV(t, "contacts.csv", "mission_id,name,title,phone,email\nemb-dc-japan,Morgan Ito,,202-555-0104,\n"), false, true)
	if err != nil || rep.Kinds[0].Added != 1 {
		t.Fatalf("dry run: %+v, %v", rep, err)
	}
	if exportJSON(t, s) != before {
		t.Fatal("a dry run changed the directory")
	}

	// Replace removes what the file does not carry, of that kind only.
	rep, err = s.Import(ctx, missions, true, false)
	if err != nil {
		t.Fatal(err)
	}
	if k := rep.Kinds[0]; k.Removed != 62 || k.Unchanged != 1 {
		t.Fatalf("replace report %+v", k)
	}
	snap := s.Snapshot()
	if len(snap.Missions) != 1 || len(snap.Offices) != 31 {
		t.Fatalf("after replace: %d missions, %d offices", len(snap.Missions), len(snap.Offices))
	}
}

func TestContactAnswers(t *testing.T) {
	snap := openService(t).Snapshot()
	tests := []struct {
		query     string
		titles    []string // section titles in order (prefix)
		isError   bool
		ambiguous bool
	}{
		{query: "canada", titles: []string{"Embassy of Canada", "Consulate General of Canada in Chicago"}},
		{query: "cnada", titles: []string{"Embassy of Canada", "Consulate General of Canada in Chicago"}},
		{query: "CÔTE D’IVOIRE", titles: []string{"Embassy of the Republic of Côte d'Ivoire"}},
		{query: "cote d'ivoire", titles: []string{"Embassy of the Republic of Côte d'Ivoire"}},
		{query: "japan houston", titles: []string{"Consulate General of Japan in Houston"}},
		{query: "emb-dc-mexico", titles: []string{"Embassy of Mexico"}},
		{query: "zzqxw", isError: true},
	}
	for _, tt := range tests {
		msg := snap.contactAnswer(tt.query)
		if msg.Error != tt.isError {
			t.Errorf("%q: error = %v (%s)", tt.query, msg.Error, msg.Text)
			continue
		}
		if len(msg.Sections) != len(tt.titles) {
			t.Errorf("%q: %d sections, want %d", tt.query, len(msg.Sections), len(tt.titles))
			continue
		}
		for i, title := range tt.titles {
			if msg.Sections[i].Title != title {
				t.Errorf("%q: section %d = %q, want %q", tt.query, i, msg.Sections[i].Title, title)
			}
		}
	}
	// Washington has dozens of missions: best 5, then how many more.
	inWashington := 0
	for _, m := range snap.Missions {
		if m.City == "Washington" {
			inWashington++
		}
	}
	msg := snap.contactAnswer("washington")
	if want := fmt.Sprintf("and %d more", inWashington-5); len(msg.Sections) != 5 || !strings.Contains(msg.Text, want) {
		t.Errorf("washington: %d sections, text %q, want %q", len(msg.Sections), msg.Text, want)
	}
}

func TestContactAmbiguousOffersChoices(t *testing.T) {
	lat, lon := 38.9, -77.0
	snap := NewSnapshot(&dirdata.Directory{Missions: []dirdata.Mission{
		{ID: "emb-austria", Country: "Austria", Kind: "embassy", Name: "Embassy of Austria", City: "Washington", State: "DC", Lat: &lat, Lon: &lon},
		{ID: "emb-australia", Country: "Australia", Kind: "embassy", Name: "Embassy of Australia", City: "Washington", State: "DC", Lat: &lat, Lon: &lon},
	}})
	msg := snap.contactAnswer("austrila")
	if len(msg.Buttons) != 2 || !strings.HasPrefix(msg.Buttons[0].Command, "contact emb-") || len(msg.Sections) != 0 {
		t.Fatalf("want two choices and no details, got %+v", msg)
	}
}

func TestOfficeAnswers(t *testing.T) {
	snap := openService(t).Snapshot()
	tests := []struct {
		query   string
		first   string // first office listed
		also    string // another office that must be listed
		place   string // in the title
		problem string
	}{
		{query: "Miami", first: "fo-miami", place: "Miami, FL"},
		{query: "miami", first: "fo-miami", place: "Miami, FL"},
		{query: "29.76,-95.37", first: "fo-houston", place: "29.76,-95.37"},
		{query: "TX", also: "fo-houston", place: "Texas"},
		{query: "Michigan", first: "fo-chicago", also: "ro-detroit", place: "Michigan"},
		{query: "il", first: "fo-chicago", place: "Illinois"},
		{query: "Austin, TX", also: "fo-houston", place: "Texas"},
		{query: "Detroit", first: "ro-detroit", also: "fo-chicago", place: "Detroit, MI"},
		{query: "embassy of japan", first: "fo-washington", place: "Embassy of Japan"},
		{query: "chicgo", first: "fo-chicago"},
		{query: "91,10", problem: "cannot be read"},
		{query: "qwxzv", problem: "No place matches"},
	}
	for _, tt := range tests {
		msg := snap.officeAnswer(tt.query)
		if tt.problem != "" {
			if !msg.Error || !strings.Contains(msg.Text, tt.problem) {
				t.Errorf("%q: want problem %q, got %+v", tt.query, tt.problem, msg)
			}
			continue
		}
		if msg.Error || len(msg.Sections) == 0 {
			t.Errorf("%q: %+v", tt.query, msg)
			continue
		}
		var ids []string
		for _, sec := range msg.Sections {
			for _, o := range snap.Offices {
				if strings.HasPrefix(sec.Title, o.Name+" ") {
					ids = append(ids, o.ID)
				}
			}
		}
		if tt.first != "" && (len(ids) == 0 || ids[0] != tt.first) {
			t.Errorf("%q: offices %v, want %s first", tt.query, ids, tt.first)
		}
		if tt.also != "" && !strings.Contains(strings.Join(ids, ","), tt.also) {
			t.Errorf("%q: offices %v, want %s among them", tt.query, ids, tt.also)
		}
		if !strings.Contains(msg.Title, tt.place) {
			t.Errorf("%q: title %q, want %q", tt.query, msg.Title, tt.place)
		}
		// Every office answer gives a phone or the 24-hour line.
		for _, sec := range msg.Sections {
			if !strings.Contains(fieldValue(sec.Fields, "Phone"), "-") {
				t.Errorf("%q: office without a phone or the 24-hour line: %+v", tt.query, sec)
			}
		}
	}
}

func TestEmergencyHasEveryNumber(t *testing.T) {
	msg := openService(t).Snapshot().EmergencyMessage()
	for _, want := range []string{"911 first", "571-345-3146", "866-217-2089", "202-895-3600"} {
		if !strings.Contains(msg.Text, want) {
			t.Errorf("emergency lacks %q: %s", want, msg.Text)
		}
	}
}

func TestBlankPhoneShowsCommandCenter(t *testing.T) {
	snap := openService(t).Snapshot()
	if got := snap.phoneOrCenter(""); !strings.Contains(got, "not on file") || !strings.Contains(got, "571-345-3146") {
		t.Errorf("blank phone shown as %q", got)
	}
	if got := snap.phoneOrCenter("(312) 353-6163"); got != "(312) 353-6163" {
		t.Errorf("phone shown as %q", got)
	}
}

func fieldValue(fields []bot.Field, label string) string {
	for _, f := range fields {
		if f.Label == label {
			return f.Value
		}
	}
	return ""
}
