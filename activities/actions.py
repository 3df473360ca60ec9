# Placeholders until the actions land; each answers 404.
def _not_yet(request, *args, **kwargs):
    from django.http import Http404

    raise Http404


activity_log = note_create = note_edit = note_delete = _not_yet
contact_segment_add = contact_segment_remove = _not_yet
contact_block = contact_unblock = contact_unsubscribe = contact_resubscribe = _not_yet
entry_pin = entry_unpin = task_done = _not_yet
