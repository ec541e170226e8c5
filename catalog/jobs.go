package catalog

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Job states.
const (
	JobQueued  = "queued"
	JobRunning = "running"
	JobDone    = "done"
	JobFailed  = "failed"
)

// Retry policy (DESIGN.md invariant 3): a job that fails MaxAttempts times
// ends failed with its reason. Restarts that interrupt a running job are
// counted apart, so a crashing server does not use up a job's attempts, but
// a job that keeps taking the server down still ends.
const (
	MaxAttempts     = 3
	MaxInterrupts   = 10
	retryBackoffMin = 5 * time.Second
)

// Job is one unit of background work on an asset.
type Job struct {
	ID          string    `json:"id"`
	Kind        string    `json:"kind"`
	AssetID     string    `json:"asset_id"`
	State       string    `json:"state"`
	Attempts    int       `json:"attempts"`
	Interrupted int       `json:"interrupted,omitempty"`
	Error       string    `json:"error,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	NotBefore   time.Time `json:"not_before,omitzero"`
}

func putJob(tx *bolt.Tx, j Job) error { return putJSON(tx.Bucket(bJobs), []byte(j.ID), j) }

// enqueue puts a job in the pending set. The value is the job's kind, so
// workers of one kind skip others' jobs without decoding them.
func enqueue(tx *bolt.Tx, j Job) error {
	return tx.Bucket(bJobsPending).Put([]byte(j.ID), []byte(j.Kind))
}

// ClaimJob takes the oldest queued job of one of kinds (any kind when none
// are given) that is due, marks it running and counts the attempt. It
// returns ErrNoJob when nothing is due.
func (c *Catalog) ClaimJob(kinds ...string) (Job, error) {
	var claimed Job
	err := c.update(func(tx *bolt.Tx) error {
		now := c.now().UTC()
		cur := tx.Bucket(bJobsPending).Cursor()
		for k, kind := cur.First(); k != nil; k, kind = cur.Next() {
			if len(kinds) > 0 && len(kind) > 0 && !slices.Contains(kinds, string(kind)) {
				continue
			}
			var j Job
			if err := getJSON(tx.Bucket(bJobs), k, &j); err != nil {
				return err
			}
			if len(kinds) > 0 && !slices.Contains(kinds, j.Kind) {
				continue
			}
			if now.Before(j.NotBefore) {
				continue
			}
			j.State, j.Attempts, j.UpdatedAt = JobRunning, j.Attempts+1, now
			if err := cur.Delete(); err != nil {
				return err
			}
			if err := tx.Bucket(bJobsRunning).Put(k, nil); err != nil {
				return err
			}
			claimed = j
			return putJob(tx, j)
		}
		return ErrNoJob
	})
	return claimed, err
}

// CompleteJob records a running job's success: update applies its results to
// the asset in the same transaction, and the asset becomes ready when none
// of its jobs remain.
func (c *Catalog) CompleteJob(jobID string, update func(*Asset) error) error {
	err := c.finishJob(jobID, func(tx *bolt.Tx, j *Job, a *Asset) error {
		j.State, j.Error = JobDone, ""
		if update != nil {
			if err := update(a); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("catalog: complete job %s: %w", jobID, err)
	}
	return nil
}

// AddRenditions records renditions that a running job has already stored,
// before the job completes: a photo's thumbnail is served while its preview
// is still being made. The asset keeps its status; the job stays running.
func (c *Catalog) AddRenditions(jobID string, rs map[string]Rendition) error {
	err := c.update(func(tx *bolt.Tx) error {
		var j Job
		if err := getJSON(tx.Bucket(bJobs), []byte(jobID), &j); err != nil {
			return err
		}
		if j.State != JobRunning {
			return fmt.Errorf("%w: job is %s, not running", ErrInvalid, j.State)
		}
		var a Asset
		if err := getJSON(tx.Bucket(bAssets), []byte(j.AssetID), &a); err != nil {
			return err
		}
		if a.Renditions == nil {
			a.Renditions = make(map[string]Rendition, len(rs))
		}
		for name, r := range rs {
			a.Renditions[name] = r
		}
		return putJSON(tx.Bucket(bAssets), []byte(a.ID), a)
	})
	if err != nil {
		return fmt.Errorf("catalog: add renditions of job %s: %w", jobID, err)
	}
	return nil
}

// FailJob records a running job's failure. A permanent failure, or the
// last allowed attempt, fails the job and its asset with reason; otherwise
// the job is queued again after a backoff.
func (c *Catalog) FailJob(jobID, reason string, permanent bool) error {
	err := c.finishJob(jobID, func(tx *bolt.Tx, j *Job, a *Asset) error {
		j.Error = reason
		if permanent || j.Attempts >= MaxAttempts {
			j.State = JobFailed
			return nil
		}
		j.State = JobQueued
		j.NotBefore = c.now().UTC().Add(retryBackoffMin << (j.Attempts - 1))
		return enqueue(tx, *j)
	})
	if err != nil {
		return fmt.Errorf("catalog: fail job %s: %w", jobID, err)
	}
	return nil
}

// finishJob moves a running job out of the running set, lets decide set its
// new state, and settles the asset's status from its jobs.
func (c *Catalog) finishJob(jobID string, decide func(*bolt.Tx, *Job, *Asset) error) error {
	return c.update(func(tx *bolt.Tx) error {
		var j Job
		if err := getJSON(tx.Bucket(bJobs), []byte(jobID), &j); err != nil {
			return err
		}
		if j.State != JobRunning {
			return fmt.Errorf("%w: job is %s, not running", ErrInvalid, j.State)
		}
		var a Asset
		if err := getJSON(tx.Bucket(bAssets), []byte(j.AssetID), &a); err != nil {
			return err
		}
		if err := tx.Bucket(bJobsRunning).Delete([]byte(jobID)); err != nil {
			return err
		}
		if err := decide(tx, &j, &a); err != nil {
			return err
		}
		j.UpdatedAt = c.now().UTC()
		if err := putJob(tx, j); err != nil {
			return err
		}
		if err := settleAsset(tx, &a); err != nil {
			return err
		}
		if err := markIndexDirty(tx, a.ID); err != nil {
			return err
		}
		return putJSON(tx.Bucket(bAssets), []byte(a.ID), a)
	})
}

// settleAsset derives an asset's status from its jobs: failed if one
// failed, processing while one is queued or running, else ready.
func settleAsset(tx *bolt.Tx, a *Asset) error {
	status, reason := StatusReady, ""
	for _, id := range a.JobIDs {
		var j Job
		if err := getJSON(tx.Bucket(bJobs), []byte(id), &j); err != nil {
			return err
		}
		switch j.State {
		case JobFailed:
			status, reason = StatusFailed, j.Error
		case JobQueued, JobRunning:
			if status != StatusFailed {
				status = StatusProcessing
			}
		}
	}
	a.Status, a.Error = status, reason
	return nil
}

// RecoverJobs runs once at start, before any worker: jobs left running by a
// crash are queued again (or failed, after MaxInterrupts restarts).
func (c *Catalog) RecoverJobs() (requeued, failed int, err error) {
	err = c.update(func(tx *bolt.Tx) error {
		now := c.now().UTC()
		running := tx.Bucket(bJobsRunning)
		var ids [][]byte
		if err := running.ForEach(func(k, _ []byte) error { ids = append(ids, append([]byte(nil), k...)); return nil }); err != nil {
			return err
		}
		for _, k := range ids {
			var j Job
			if err := getJSON(tx.Bucket(bJobs), k, &j); err != nil {
				return err
			}
			if err := running.Delete(k); err != nil {
				return err
			}
			j.Interrupted++
			j.UpdatedAt = now
			if j.Interrupted >= MaxInterrupts {
				j.State, j.Error = JobFailed, fmt.Sprintf("interrupted by %d restarts", j.Interrupted)
				failed++
				var a Asset
				if err := getJSON(tx.Bucket(bAssets), []byte(j.AssetID), &a); err != nil {
					return err
				}
				if err := putJob(tx, j); err != nil {
					return err
				}
				if err := settleAsset(tx, &a); err != nil {
					return err
				}
				if err := putJSON(tx.Bucket(bAssets), []byte(a.ID), a); err != nil {
					return err
				}
				continue
			}
			// The crash was not the job's failure: give the attempt back.
			j.State, j.Attempts = JobQueued, max(j.Attempts-1, 0)
			requeued++
			if err := enqueue(tx, j); err != nil {
				return err
			}
			if err := putJob(tx, j); err != nil {
				return err
			}
		}
		return nil
	})
	return requeued, failed, err
}

// ReleaseJob puts a running job back in the queue without counting the
// attempt: the worker stopped for a shutdown, not because the job failed.
func (c *Catalog) ReleaseJob(jobID string) error {
	err := c.update(func(tx *bolt.Tx) error {
		var j Job
		if err := getJSON(tx.Bucket(bJobs), []byte(jobID), &j); err != nil {
			return err
		}
		if j.State != JobRunning {
			return fmt.Errorf("%w: job is %s, not running", ErrInvalid, j.State)
		}
		if err := tx.Bucket(bJobsRunning).Delete([]byte(jobID)); err != nil {
			return err
		}
		j.State, j.Attempts, j.UpdatedAt = JobQueued, max(j.Attempts-1, 0), c.now().UTC()
		if err := enqueue(tx, j); err != nil {
			return err
		}
		return putJob(tx, j)
	})
	if err != nil {
		return fmt.Errorf("catalog: release job %s: %w", jobID, err)
	}
	return nil
}

// Job returns the job with id.
func (c *Catalog) Job(id string) (Job, error) {
	var j Job
	err := c.db.View(func(tx *bolt.Tx) error { return getJSON(tx.Bucket(bJobs), []byte(id), &j) })
	if err != nil {
		return Job{}, fmt.Errorf("catalog: job %s: %w", id, err)
	}
	return j, nil
}

// Jobs lists jobs, newest first, optionally only those in state; at most limit.
func (c *Catalog) Jobs(state string, limit int) ([]Job, error) {
	out := []Job{}
	err := c.db.View(func(tx *bolt.Tx) error {
		cur := tx.Bucket(bJobs).Cursor()
		for k, v := cur.Last(); k != nil && len(out) < limit; k, v = cur.Prev() {
			var j Job
			if err := json.Unmarshal(v, &j); err != nil {
				return err
			}
			if state == "" || j.State == state {
				out = append(out, j)
			}
		}
		return nil
	})
	return out, err
}

// QueueDepth returns how many jobs are queued and running.
func (c *Catalog) QueueDepth() (queued, running int, err error) {
	err = c.db.View(func(tx *bolt.Tx) error {
		queued = tx.Bucket(bJobsPending).Stats().KeyN
		running = tx.Bucket(bJobsRunning).Stats().KeyN
		return nil
	})
	return queued, running, err
}

// QueuedByKind counts the queued jobs of each kind, for admins and metrics.
func (c *Catalog) QueuedByKind() (map[string]int, error) {
	out := map[string]int{}
	err := c.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bJobsPending).ForEach(func(_, kind []byte) error { out[string(kind)]++; return nil })
	})
	return out, err
}
