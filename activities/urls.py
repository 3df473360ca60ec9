from django.urls import path

from activities import actions, notifications, views

urlpatterns = [
    path("", views.home, name="home"),
    # Reading: the contact page and its timeline, the workspace feed.
    path("contacts/<uuid:contact_id>/", views.contact_detail, name="contact-detail"),
    path("contacts/<uuid:contact_id>/timeline/", views.contact_timeline, name="contact-timeline"),
    path(
        "contacts/<uuid:contact_id>/timeline.csv",
        views.contact_timeline_csv,
        name="contact-timeline-csv",
    ),
    path("activities/", views.activity_feed, name="activity-feed"),
    path("activities/export.csv", views.activity_feed_csv, name="activity-feed-csv"),
    # Writing: every action calls a function of activities.services.
    path("activities/log/", actions.activity_log, name="activity-log"),
    path("contacts/<uuid:contact_id>/notes/", actions.note_create, name="contact-note-create"),
    path("notes/<uuid:note_id>/edit/", actions.note_edit, name="note-edit"),
    path("notes/<uuid:note_id>/delete/", actions.note_delete, name="note-delete"),
    path(
        "contacts/<uuid:contact_id>/segments/",
        actions.contact_segment_add,
        name="contact-segment-add",
    ),
    path(
        "contacts/<uuid:contact_id>/segments/<uuid:segment_id>/remove/",
        actions.contact_segment_remove,
        name="contact-segment-remove",
    ),
    path("contacts/<uuid:contact_id>/block/", actions.contact_block, name="contact-block"),
    path("contacts/<uuid:contact_id>/unblock/", actions.contact_unblock, name="contact-unblock"),
    path(
        "contacts/<uuid:contact_id>/unsubscribe/",
        actions.contact_unsubscribe,
        name="contact-unsubscribe",
    ),
    path(
        "contacts/<uuid:contact_id>/resubscribe/",
        actions.contact_resubscribe,
        name="contact-resubscribe",
    ),
    path(
        "contacts/<uuid:contact_id>/entries/<uuid:activity_id>/pin/",
        actions.entry_pin,
        name="entry-pin",
    ),
    path(
        "contacts/<uuid:contact_id>/entries/<uuid:activity_id>/unpin/",
        actions.entry_unpin,
        name="entry-unpin",
    ),
    path("activities/<uuid:activity_id>/done/", actions.task_done, name="task-done"),
    path("notifications/", notifications.notification_list, name="notification-list"),
    path(
        "notifications/<uuid:notification_id>/read/",
        notifications.notification_read,
        name="notification-read",
    ),
    path(
        "notifications/read-all/",
        notifications.notification_read_all,
        name="notification-read-all",
    ),
]
