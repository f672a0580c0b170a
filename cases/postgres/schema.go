package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// DropSchema removes a schema and everything in it: for tests and for
// taking an installation down. It is not an error when it does not exist.
func DropSchema(ctx context.Context, url, schema string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return dbError("drop schema "+schema, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
		return dbError("drop schema "+schema, err)
	}
	return nil
}
