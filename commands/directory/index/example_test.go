package index_test

import (
	"fmt"

	"liaisonbot/commands/directory/index"
)

func ExampleIndex_Search() {
	type mission struct{ id, country, name, city string }
	missions := []mission{
		{"emb-dc-canada", "Canada", "Embassy of Canada", "Washington"},
		{"cg-chicago-canada", "Canada", "Consulate General of Canada in Chicago", "Chicago"},
		{"emb-dc-cote-divoire", "Côte d'Ivoire", "Embassy of the Republic of Côte d'Ivoire", "Washington"},
		{"cg-houston-japan", "Japan", "Consulate General of Japan in Houston", "Houston"},
	}
	b := index.NewBuilder()
	for i, m := range missions {
		// The id passed to Add is the caller's handle: here the slice index.
		b.Add(i,
			index.Field{Text: m.country, Weight: 3},
			index.Field{Text: m.name, Weight: 2},
			index.Field{Text: m.city, Weight: 1.5},
			index.Field{Text: m.id, Weight: 1},
		)
	}
	ix := b.Build()

	for _, q := range []string{"canada", "Kanada", "cote divoire", "japan houston", "zzzzqx"} {
		hits, total := ix.Search(q, 5)
		fmt.Printf("%q: %d match(es)", q, total)
		for _, h := range hits {
			fmt.Printf(" %s(exact=%v)", missions[h.ID].id, h.Exact)
		}
		fmt.Println()
	}
	// Output:
	// "canada": 2 match(es) emb-dc-canada(exact=true) cg-chicago-canada(exact=true)
	// "Kanada": 2 match(es) emb-dc-canada(exact=false) cg-chicago-canada(exact=false)
	// "cote divoire": 1 match(es) emb-dc-cote-divoire(exact=true)
	// "japan houston": 1 match(es) cg-houston-japan(exact=true)
	// "zzzzqx": 0 match(es)
}

func ExampleNormalize() {
	fmt.Println(index.Normalize("Côte d'Ivoire"))
	fmt.Println(index.Normalize("Turkey (Türkiye)"))
	fmt.Println(index.Normalize("St. Louis"))
	// Output:
	// cote divoire
	// turkey turkiye
	// st louis
}
