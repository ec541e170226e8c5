package catalog

import (
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// RetryJob queues a failed job again with its attempts reset, for when an
// admin fixed what made it fail (a tool installed, a limit raised, a file
// replaced on disk). Its asset is processing again until the job settles.
// Jobs not failed are ErrInvalid; unknown ones ErrNotFound.
func (c *Catalog) RetryJob(jobID string) (Job, error) {
	var j Job
	err := c.update(func(tx *bolt.Tx) error {
		if err := getJSON(tx.Bucket(bJobs), []byte(jobID), &j); err != nil {
			return err
		}
		if j.State != JobFailed {
			return fmt.Errorf("%w: job is %s, not failed", ErrInvalid, j.State)
		}
		j.State, j.Attempts, j.Interrupted, j.Error = JobQueued, 0, 0, ""
		j.NotBefore, j.UpdatedAt = time.Time{}, c.now().UTC()
		if err := enqueue(tx, j); err != nil {
			return err
		}
		if err := putJob(tx, j); err != nil {
			return err
		}
		var a Asset
		if err := getJSON(tx.Bucket(bAssets), []byte(j.AssetID), &a); err != nil {
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
	if err != nil {
		return Job{}, fmt.Errorf("catalog: retry job %s: %w", jobID, err)
	}
	return j, nil
}
