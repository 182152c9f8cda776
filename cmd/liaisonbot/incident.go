package main

import (
	"context"
	"fmt"
	"log/slog"

	"liaisonbot/commands/directory"
	"liaisonbot/commands/incident"
)

// incidentDirectory answers the incident feature's questions from the
// directory's current snapshot.
type incidentDirectory struct{ svc *directory.Service }

func (d incidentDirectory) SearchMissions(query string, limit int) incident.MissionSearch {
	res := d.svc.Snapshot().SearchMissions(query, limit)
	out := incident.MissionSearch{Total: res.Total, Ambiguous: res.Ambiguous}
	for _, m := range res.Missions {
		out.Missions = append(out.Missions, incident.Mission{
			ID: m.ID, Name: m.Name, Country: m.Country, Kind: m.Kind, City: m.City, State: m.State,
		})
	}
	return out
}

func (d incidentDirectory) EmergencyGuidance() string { return d.svc.Snapshot().EmergencyGuidance() }

// registerIncidents wires the incident feature: its commands and thread
// mirroring on the mux, its sent hook on the outbox.
func (a *app) registerIncidents() {
	a.incidents = incident.New(incident.Options{
		Store: a.store, Config: a.cfg, Directory: incidentDirectory{a.directory},
		Outbox: a.outbox, Logger: a.log, Now: a.now,
	})
	a.incidents.Register(a.mux)
}

// incidentCmd: `incident export ID` prints the Markdown after-action report.
func (e *environment) incidentCmd(args []string) error {
	if len(args) != 2 || args[0] != "export" {
		return usageErr("incident: want `incident export ID` (an id like INC-2026-0042)")
	}
	id := args[1]
	if _, _, ok := incident.ParseID(id); !ok {
		return usageErr("incident export: %q is not an incident id (they look like INC-2026-0042)", id)
	}
	ctx := context.Background()
	a, err := e.open(ctx, slog.LevelWarn)
	if err != nil {
		return err
	}
	defer a.close()
	inc, ok, err := a.incidents.Get(ctx, id)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("no incident %s", id)
	}
	_, err = fmt.Fprint(e.stdout, a.incidents.RenderReport(inc))
	return err
}
