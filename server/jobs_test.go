package server_test

import (
	"net/http"
	"testing"

	"github.com/comsoc/acervo/catalog"
)

func TestAdminRetriesAFailedJob(t *testing.T) {
	e := start(t)
	c := e.login()
	good := photo(t, 320, 240, 51)
	var bad assetJSON
	decode(t, c.upload("cortada.jpg", good[:len(good)/2], nil), http.StatusCreated, &bad)
	if a := c.waitSettled(bad.ID); a.Status != catalog.StatusFailed {
		t.Fatalf("truncated photo ended %s", a.Status)
	}
	var failed struct{ Jobs []catalog.Job }
	decode(t, c.do("GET", "/api/v1/jobs?state=failed", "", nil, nil), http.StatusOK, &failed)
	if len(failed.Jobs) != 1 {
		t.Fatalf("failed jobs = %+v", failed.Jobs)
	}
	id := failed.Jobs[0].ID

	editor := e.loginAs("editora", catalog.RoleEditor)
	expectError(t, editor.do("POST", "/api/v1/jobs/"+id+"/retry", "", nil, nil), http.StatusForbidden, "forbidden")
	expectError(t, c.do("POST", "/api/v1/jobs/nope/retry", "", nil, nil), http.StatusNotFound, "not_found")

	var j catalog.Job
	decode(t, c.do("POST", "/api/v1/jobs/"+id+"/retry", "", nil, nil), http.StatusOK, &j)
	if j.State != catalog.JobQueued || j.Attempts != 0 {
		t.Errorf("retried job = %+v, want queued with attempts reset", j)
	}
	// Still a broken file: it fails again, after one more attempt.
	if a := c.waitSettled(bad.ID); a.Status != catalog.StatusFailed {
		t.Fatalf("after the retry the asset is %s", a.Status)
	}
	decode(t, c.do("GET", "/api/v1/jobs?state=failed", "", nil, nil), http.StatusOK, &failed)
	if len(failed.Jobs) != 1 || failed.Jobs[0].Attempts != 1 {
		t.Errorf("failed jobs after the retry = %+v, want the same one at attempt 1", failed.Jobs)
	}

	ok := c.uploadSettled("buena.jpg", good, nil)
	var all struct{ Jobs []catalog.Job }
	decode(t, c.do("GET", "/api/v1/jobs", "", nil, nil), http.StatusOK, &all)
	for _, jb := range all.Jobs {
		if jb.AssetID == ok.ID {
			expectError(t, c.do("POST", "/api/v1/jobs/"+jb.ID+"/retry", "", nil, nil), http.StatusBadRequest, "invalid")
		}
	}
}
