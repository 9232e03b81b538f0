package store_test

import (
	"context"
	"testing"

	"github.com/pathways-se/pathways/internal/testenv"
	"github.com/pathways-se/pathways/store"
)

// TestMain stops the PostgreSQL this test process may have started. If
// another store test file needs a TestMain, move this one there.
func TestMain(m *testing.M) { testenv.Main(m) }

func TestNotificationsOncePerKey(t *testing.T) {
	pool, _ := testenv.Database(t)
	ctx := context.Background()
	n := store.Notification{Key: "wf-1/task-due", RecipientStaff: "staff-1", CaseID: "C-1", Subject: "Uppgift förfaller", Body: "Ärende C-1"}
	for range 3 {
		if err := store.AddNotification(ctx, pool, n); err != nil {
			t.Fatal(err)
		}
	}
	add := func(n store.Notification) {
		t.Helper()
		if err := store.AddNotification(ctx, pool, n); err != nil {
			t.Fatal(err)
		}
	}
	add(store.Notification{Key: "k-role-gbg", RecipientRole: "job_coach", CentreID: "gbg", CaseID: "C-2", Subject: "Till coacher i Göteborg"})
	add(store.Notification{Key: "k-role-thn", RecipientRole: "job_coach", CentreID: "thn", CaseID: "C-3", Subject: "Till coacher i Trollhättan"})
	add(store.Notification{Key: "k-role-all", RecipientRole: "job_coach", Subject: "Till alla coacher"})
	add(store.Notification{Key: "k-other", RecipientStaff: "staff-2", Subject: "Inte till staff-1"})
	if err := store.AddNotification(ctx, pool, store.Notification{Key: "k-none", Subject: "x"}); err == nil {
		t.Fatal("a notification without recipient was accepted")
	}
	if err := store.AddNotification(ctx, pool, store.Notification{RecipientStaff: "s", Subject: "x"}); err == nil {
		t.Fatal("a notification without key was accepted")
	}

	page, err := store.ListNotifications(ctx, pool, store.NotificationFilter{
		StaffID: "staff-1", Roles: []string{"job_coach"}, CentreIDs: []string{"gbg"}})
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	for _, it := range page.Items {
		keys[it.Key] = true
	}
	if page.Total != 3 || !keys["wf-1/task-due"] || !keys["k-role-gbg"] || !keys["k-role-all"] {
		t.Fatalf("staff-1 sees %d: %v", page.Total, keys)
	}

	all, err := store.ListNotifications(ctx, pool, store.NotificationFilter{})
	if err != nil || all.Total != 5 {
		t.Fatalf("all: %d %v", all.Total, err)
	}

	var id int64
	for _, it := range page.Items {
		if it.Key == "wf-1/task-due" {
			id = it.ID
			if it.ReadAt != nil || it.CaseID != "C-1" || it.Subject != n.Subject {
				t.Fatalf("row: %+v", it)
			}
		}
	}
	if c, err := store.MarkNotificationsRead(ctx, pool, []int64{id}); err != nil || c != 1 {
		t.Fatalf("mark: %d %v", c, err)
	}
	if c, _ := store.MarkNotificationsRead(ctx, pool, []int64{id}); c != 0 {
		t.Fatal("marked twice")
	}
	unread, err := store.ListNotifications(ctx, pool, store.NotificationFilter{StaffID: "staff-1", UnreadOnly: true})
	if err != nil || unread.Total != 0 {
		t.Fatalf("unread: %d %v", unread.Total, err)
	}
	byCase, err := store.ListNotifications(ctx, pool, store.NotificationFilter{CaseID: "C-2"})
	if err != nil || byCase.Total != 1 || byCase.Items[0].Key != "k-role-gbg" {
		t.Fatalf("by case: %+v %v", byCase, err)
	}
}
