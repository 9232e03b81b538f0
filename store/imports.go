package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pathways-se/pathways/keyring"
)

// Import upload statuses.
const (
	ImportChecked   = "checked" // uploaded and dry-run; waiting for confirmation
	ImportRunning   = "running"
	ImportDone      = "done"
	ImportFailed    = "failed" // stopped; the file is kept so it can run again
	ImportDiscarded = "discarded"
)

// ImportUpload is a console import between its steps. Summaries are JSON
// of the starter's ImportSummary: lines, fields and reasons, no values.
type ImportUpload struct {
	ID        uuid.UUID       `json:"id"`
	StaffID   string          `json:"staff_id"`
	Status    string          `json:"status"`
	Encoding  string          `json:"encoding"`
	HasFile   bool            `json:"has_file"`
	RowsTotal int             `json:"rows_total"`
	RowsDone  int             `json:"rows_done"`
	DryRun    json.RawMessage `json:"dry_run,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
}

func importFileAAD(id uuid.UUID) []byte { return []byte("import_uploads.file:" + id.String()) }

// CreateImportUpload stores an uploaded file sealed, with its dry run.
func CreateImportUpload(ctx context.Context, pool *pgxpool.Pool, keys *keyring.Ring, staffID, encoding string, file []byte, dryRun any, total int) (uuid.UUID, error) {
	if keys == nil {
		return uuid.Nil, errors.New("store: no keyring: an uploaded file is never stored unencrypted")
	}
	id := uuid.New()
	sealed, err := keys.Seal(file, importFileAAD(id))
	if err != nil {
		return id, err
	}
	dr, err := json.Marshal(dryRun)
	if err != nil {
		return id, err
	}
	_, err = pool.Exec(ctx, `INSERT INTO import_uploads (id, staff_id, status, encoding, file_enc, rows_total, dry_run)
		VALUES ($1,$2,'checked',$3,$4,$5,$6)`, id, staffID, encoding, sealed, total, dr)
	return id, err
}

const importCols = `id, staff_id, status, encoding, file_enc IS NOT NULL, rows_total, rows_done, dry_run, result, created_at, updated_at`

func scanImport(row pgx.Row) (ImportUpload, error) {
	var u ImportUpload
	err := row.Scan(&u.ID, &u.StaffID, &u.Status, &u.Encoding, &u.HasFile, &u.RowsTotal, &u.RowsDone, &u.DryRun, &u.Result, &u.CreatedAt, &u.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return u, ErrNotFound
	}
	return u, err
}

// GetImportUpload returns one upload of staffID (another's is not found).
func GetImportUpload(ctx context.Context, pool *pgxpool.Pool, staffID string, id uuid.UUID) (ImportUpload, error) {
	return scanImport(pool.QueryRow(ctx, `SELECT `+importCols+` FROM import_uploads WHERE id = $1 AND staff_id = $2`, id, staffID))
}

// ListImportUploads returns staffID's latest uploads, newest first.
func ListImportUploads(ctx context.Context, pool *pgxpool.Pool, staffID string, limit int) ([]ImportUpload, error) {
	rows, err := pool.Query(ctx, `SELECT `+importCols+` FROM import_uploads WHERE staff_id = $1 ORDER BY created_at DESC LIMIT $2`, staffID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ImportUpload
	for rows.Next() {
		u, err := scanImport(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// ErrImportNotReady means the upload cannot run now: it is running
// already, done or discarded.
var ErrImportNotReady = errors.New("this import is not waiting for confirmation")

// ClaimImportUpload marks a checked (or failed, or stalled running) upload
// running and returns its file, decrypted. staleAfter is how long a running
// import may go without progress before it counts as stopped.
func ClaimImportUpload(ctx context.Context, pool *pgxpool.Pool, keys *keyring.Ring, staffID string, id uuid.UUID, staleAfter time.Duration) ([]byte, string, error) {
	var sealed []byte
	var encoding string
	err := pool.QueryRow(ctx, `UPDATE import_uploads SET status = 'running', rows_done = 0, updated_at = now()
		WHERE id = $1 AND staff_id = $2 AND file_enc IS NOT NULL
		  AND (status IN ('checked', 'failed') OR (status = 'running' AND updated_at < now() - $3 * interval '1 second'))
		RETURNING file_enc, encoding`, id, staffID, staleAfter.Seconds()).Scan(&sealed, &encoding)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, "", ErrImportNotReady
	}
	if err != nil {
		return nil, "", err
	}
	file, err := keys.Open(sealed, importFileAAD(id))
	return file, encoding, err
}

// ImportProgress records rows done.
func ImportProgress(ctx context.Context, pool *pgxpool.Pool, id uuid.UUID, done, total int) error {
	_, err := pool.Exec(ctx, `UPDATE import_uploads SET rows_done = $2, rows_total = $3, updated_at = now() WHERE id = $1 AND status = 'running'`, id, done, total)
	return err
}

// FinishImportUpload records the result. A finished import's file is
// deleted; a failed one keeps it so it can run again (every row already
// started is then reported as such).
func FinishImportUpload(ctx context.Context, pool *pgxpool.Pool, id uuid.UUID, failed bool, result any) error {
	res, err := json.Marshal(result)
	if err != nil {
		return err
	}
	status := ImportDone
	if failed {
		status = ImportFailed
	}
	_, err = pool.Exec(ctx, `UPDATE import_uploads SET status = $2, result = $3, updated_at = now(),
		file_enc = CASE WHEN $2 = 'done' THEN NULL ELSE file_enc END WHERE id = $1`, id, status, res)
	return err
}

// DiscardImportUpload deletes a waiting upload's file.
func DiscardImportUpload(ctx context.Context, pool *pgxpool.Pool, staffID string, id uuid.UUID) error {
	tag, err := pool.Exec(ctx, `UPDATE import_uploads SET status = 'discarded', file_enc = NULL, updated_at = now()
		WHERE id = $1 AND staff_id = $2 AND status IN ('checked', 'failed')`, id, staffID)
	if err == nil && tag.RowsAffected() == 0 {
		return ErrImportNotReady
	}
	return err
}

// DropStaleImportFiles deletes the files of uploads nobody confirmed or
// retried within maxAge: a file is kept between steps, not for later.
func DropStaleImportFiles(ctx context.Context, pool *pgxpool.Pool, maxAge time.Duration) error {
	_, err := pool.Exec(ctx, `UPDATE import_uploads SET status = CASE WHEN status = 'running' THEN 'failed' ELSE 'discarded' END, file_enc = NULL
		WHERE file_enc IS NOT NULL AND updated_at < now() - $1 * interval '1 second'`, maxAge.Seconds())
	return err
}
