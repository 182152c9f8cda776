package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"

	"liaisonbot/commands/directory/dirdata"
)

var exportKinds = []string{"offices", "missions", "contacts", "headquarters"}

func (e *environment) directory(args []string) error {
	if len(args) == 0 {
		return usageErr("directory: want import or export")
	}
	switch args[0] {
	case "import":
		return e.directoryImport(args[1:])
	case "export":
		return e.directoryExport(args[1:])
	}
	return usageErr("directory: unknown subcommand %q (want import or export)", args[0])
}

func (e *environment) directoryImport(args []string) error {
	fs := quietFlags("directory import", e.stderr)
	replace := fs.Bool("replace", false, "replace every kind the file carries instead of merging")
	dryRun := fs.Bool("dry-run", false, "check and count, change nothing")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageErr("directory import: want exactly one FILE (.csv or .json)")
	}
	// Read and check the whole file before touching the database.
	f, err := dirdata.ReadFile(rest[0])
	if err != nil {
		return err
	}
	ctx := context.Background()
	a, err := e.open(ctx, slog.LevelWarn)
	if err != nil {
		return err
	}
	defer a.close()
	rep, err := a.directory.Import(ctx, f, *replace, *dryRun)
	if err != nil {
		return fmt.Errorf("import %s: nothing was changed: %w", filepath.Base(rest[0]), err)
	}
	verb := "imported"
	if *dryRun {
		verb = "dry run, nothing changed; would import"
	}
	fmt.Fprintf(e.stdout, "%s: %s\n", rest[0], verb)
	for _, k := range rep.Kinds {
		fmt.Fprintf(e.stdout, "  %-12s %6d rows: %d added, %d updated, %d unchanged", k.Kind, k.Rows, k.Added, k.Updated, k.Unchanged)
		if *replace {
			fmt.Fprintf(e.stdout, ", %d removed", k.Removed)
		}
		fmt.Fprintln(e.stdout)
	}
	return nil
}

func (e *environment) directoryExport(args []string) error {
	fs := quietFlags("directory export", e.stderr)
	format := fs.String("format", "json", "csv or json")
	kind := fs.String("kind", "", "with csv to standard output: offices, missions, contacts or headquarters")
	out := fs.String("out", "", "a directory to write offices.csv, missions.csv, contacts.csv, headquarters.csv (or directory.json) into")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageErr("directory export: unexpected argument %q", rest[0])
	}
	if *format != "csv" && *format != "json" {
		return usageErr("directory export --format: want csv or json, not %q", *format)
	}
	if *kind != "" && !slices.Contains(exportKinds, *kind) {
		return usageErr("directory export --kind: want one of %v, not %q", exportKinds, *kind)
	}
	if *format == "csv" && *kind == "" && *out == "" {
		return usageErr("directory export --format csv: name a --kind for standard output, or an --out directory for all four files")
	}
	ctx := context.Background()
	a, err := e.open(ctx, slog.LevelWarn)
	if err != nil {
		return err
	}
	defer a.close()
	d, err := a.directory.Export(ctx)
	if err != nil {
		return err
	}
	if *out == "" {
		if *format == "json" {
			return dirdata.WriteJSON(e.stdout, d)
		}
		return dirdata.WriteCSV(e.stdout, *kind, d)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	if *format == "json" {
		return writeFile(filepath.Join(*out, "directory.json"), func(f *os.File) error { return dirdata.WriteJSON(f, d) })
	}
	kinds := exportKinds
	if *kind != "" {
		kinds = []string{*kind}
	}
	for _, k := range kinds {
		if err := writeFile(filepath.Join(*out, k+".csv"), func(f *os.File) error { return dirdata.WriteCSV(f, k, d) }); err != nil {
			return err
		}
	}
	return nil
}

// writeFile writes through a temporary file and renames it, so a failed
// export never leaves half a file under the real name.
func writeFile(path string, write func(*os.File) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
