package state

import (
	"context"
	"fmt"
	"math/rand/v2"
)

// Word lists for generated names, docker style: adjective_surname. The
// surnames are scientists and engineers.
var (
	adjectives = []string{
		"admiring", "agile", "amazing", "bold", "brave", "calm", "clever", "cool",
		"dazzling", "eager", "elegant", "epic", "fervent", "focused", "gallant", "gentle",
		"happy", "hopeful", "jolly", "keen", "kind", "laughing", "lucid", "modest",
		"nifty", "nimble", "optimistic", "patient", "quirky", "quiet", "relaxed", "serene",
		"sharp", "stoic", "sweet", "tender", "trusting", "upbeat", "vibrant", "wizardly",
		"youthful", "zealous",
	}
	surnames = []string{
		"agnesi", "babbage", "bardeen", "bohr", "boole", "curie", "darwin", "dijkstra",
		"einstein", "euler", "faraday", "fermi", "feynman", "gauss", "goldberg", "hamilton",
		"hopper", "hypatia", "kepler", "knuth", "lamarr", "lovelace", "maxwell", "meitner",
		"mirzakhani", "newton", "noether", "pascal", "ritchie", "shannon", "somerville", "thompson",
		"turing", "volta", "wozniak", "yalow",
	}
)

// GenerateName returns a random name, adjective_surname, that no container
// uses. Another process may take the same name before the caller adds its
// container; AddContainer then fails with ErrAlreadyExists and the caller
// may simply generate again.
func (d *DB) GenerateName(ctx context.Context) (string, error) {
	for try := 0; try < 64; try++ {
		name := adjectives[rand.IntN(len(adjectives))] + "_" + surnames[rand.IntN(len(surnames))]
		if try >= 8 {
			// The plain names are getting crowded: add a number.
			name = fmt.Sprintf("%s%d", name, rand.IntN(1000))
		}
		var n int
		if err := d.db.QueryRowContext(ctx, "SELECT count(*) FROM containers WHERE name = ?", name).Scan(&n); err != nil {
			return "", err
		}
		if n == 0 {
			return name, nil
		}
	}
	return "", fmt.Errorf("could not generate a free container name")
}
