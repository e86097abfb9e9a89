package state

import "database/sql"

// scanFunc reads one row; extra receives additional selected columns.
type scanFunc[T any] func(rows *sql.Rows, extra ...any) (T, error)

// pickOne reads the rows of a name-or-ID lookup whose last column says
// whether the row matched exactly. It returns the exact match, or the
// only prefix match; otherwise n is the number of rows (0: none, 2:
// ambiguous; lookups select at most two) and the caller words the error.
func pickOne[T any](rows *sql.Rows, scan scanFunc[T]) (found T, n int, err error) {
	defer rows.Close()
	for rows.Next() {
		var exact bool
		v, err := scan(rows, &exact)
		if err != nil {
			return found, 0, err
		}
		if exact {
			return v, 1, nil
		}
		if n == 0 {
			found = v
		}
		n++
	}
	return found, n, rows.Err()
}

// scanAll reads every row.
func scanAll[T any](rows *sql.Rows, scan scanFunc[T]) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
