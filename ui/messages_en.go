package ui

// messagesEN is the English catalog; it has every key of messagesES
// (ui_test.go checks).
var messagesEN = map[string]string{
	"nav.skip": "Skip to content", "nav.label": "Sections", "nav.search": "Search", "nav.upload": "Upload",
	"nav.events": "Events", "nav.people": "People", "nav.timeline": "Timeline", "nav.admin": "Admin",
	"nav.logout": "Sign out",

	"role.admin": "admin", "role.editor": "editor", "role.contributor": "contributor", "role.viewer": "viewer",

	"login.title": "Sign in", "login.username": "Username", "login.password": "Password", "login.submit": "Sign in",

	"error.home": "Back to the start", "error.notfound": "Not found", "error.notfound.text": "That page does not exist or is no longer available.",
	"error.forbidden": "Forbidden", "error.forbidden.text": "Your role does not allow this page.",
	"error.internal": "Internal error", "error.internal.text": "Something failed on our side. Try again; if it persists, tell IT this code: %s",

	"kind.photo": "Photo", "kind.video": "Video", "kind.audio": "Audio", "kind.document": "Document",
	"status.processing": "Processing…", "status.ready": "Ready", "status.failed": "Processing failed",

	"search.title": "Search the archive", "search.q": "Search", "search.placeholder": "e.g. park opening",
	"search.submit": "Search", "search.options": "Dates and order", "search.from": "From", "search.to": "To",
	"search.sort": "Order", "search.sort.relevance": "Relevance", "search.sort.newest": "Newest first",
	"search.sort.oldest": "Oldest first", "search.sort.uploaded": "Recently uploaded",
	"search.active": "Active filters", "search.remove": "remove filter", "search.facets": "Narrow results",
	"search.total.one": "%d result", "count.items.one": "%d item",
	"search.total": "%d results", "search.more": "Show more", "search.empty": "Nothing here yet.",
	"facet.kind": "Type", "facet.event": "Event", "facet.person": "Person", "facet.tag": "Tag", "facet.year": "Year",
	"facet.from": "From", "facet.to": "To", "facet.q": "Text",

	"asset.zoom": "Zoom in or out", "asset.zoomhint": "Click or press Enter on the photo to see it at full size.",
	"asset.waveform": "Audio waveform; click to go to that moment", "asset.page1": "Page 1",
	"asset.original": "Download original", "asset.proxy": "Download light video (MP4)", "asset.audioproxy": "Download light audio (M4A)",
	"asset.preview": "Download preview (JPEG)", "asset.text": "Document text", "asset.metadata": "Details",
	"clip.title": "Cut an excerpt", "clip.in": "Mark in", "clip.out": "Mark out", "clip.download": "Download excerpt",
	"clip.hint": "Play and mark in and out at the current position; the excerpt is cut on the server.",

	"field.title": "Title", "field.caption": "Caption / description", "field.event": "Event", "field.people": "People",
	"field.tags": "Tags", "field.captured": "Taken", "field.uploaded": "Uploaded", "field.filename": "File",
	"field.credit": "Credit", "field.creator": "Creator", "field.copyright": "Copyright", "field.place": "Place",
	"field.size": "Dimensions", "field.camera": "Camera", "field.codecs": "Codecs", "field.pages": "Pages",
	"edit.title": "Edit details", "edit.commas": "(comma-separated)", "edit.noevent": "— No event —", "edit.save": "Save",

	"upload.title": "Upload material", "upload.batch": "Details for every file",
	"upload.eventhint": "(pick one or type a new one: it is created on upload)",
	"upload.drop":      "Drop photos, videos, audio or PDFs here, or", "upload.choose": "Choose files",

	"events.title": "Events", "events.none": "No events yet.", "event.cover": "Cover",
	"event.search": "Search within this material", "count.items": "%d items",
	"people.title": "People", "people.none": "No people recorded yet.",
	"timeline.title": "Timeline", "timeline.years": "Years",

	"admin.title": "Admin", "admin.queue": "Job queue", "admin.depth": "%d queued, %d running",
	"admin.kind": "Kind", "admin.queued": "Queued", "admin.empty": "Nothing queued.", "admin.failed": "Failed jobs",
	"admin.when": "When", "admin.asset": "Asset", "admin.attempts": "Attempts", "admin.reason": "Reason",
	"admin.nofailed": "No job has failed.", "admin.retry": "Retry", "js.retried": "Job queued again.",
	"admin.storage": "Storage and index", "admin.disk": "Data disk", "admin.free": "%s free of %s",
	"admin.uploads": "Resumable uploads in progress", "admin.index": "Search index",
	"admin.indexed": "%d items indexed", "admin.rebuilding": "Rebuilding…", "admin.noindex": "Unavailable",

	"month.1": "January", "month.2": "February", "month.3": "March", "month.4": "April", "month.5": "May", "month.6": "June",
	"month.7": "July", "month.8": "August", "month.9": "September", "month.10": "October", "month.11": "November", "month.12": "December",
	"month.short.1": "Jan", "month.short.2": "Feb", "month.short.3": "Mar", "month.short.4": "Apr", "month.short.5": "May", "month.short.6": "Jun",
	"month.short.7": "Jul", "month.short.8": "Aug", "month.short.9": "Sep", "month.short.10": "Oct", "month.short.11": "Nov", "month.short.12": "Dec",

	"js.loginfail": "Could not sign in.", "js.waiting": "Waiting", "js.uploading": "Uploading {0} %",
	"js.paused": "Paused", "js.pause": "Pause", "js.resume": "Resume", "js.retrying": "Offline; retrying…",
	"js.processing": "Uploaded; processing…", "js.ready": "Ready", "js.failed": "Uploaded, but processing failed: {0}",
	"js.duplicate": "Already in the archive", "js.refused": "Refused: {0}", "js.error": "Error: {0}", "js.open": "Open",
	"js.summary": "{0} of {1} files · {2} of {3}", "js.speed": "{0}/s", "js.left": "{0} left",
	"js.pending":  "{0} uploads are unfinished. Choose the same files again to resume them where they stopped.",
	"js.pending1": "One upload is unfinished. Choose the same file again to resume it where it stopped.",
	"js.saved":    "Saved.", "js.savefail": "Not saved: {0}",

	// Issue #5: collections, share links, users.
	"nav.collections": "Collections", "nav.shares": "Links", "nav.users": "Users",
	"collections.title": "Collections", "collections.intro": "Ordered sets of material: press kits, the annual report…",
	"collections.new": "New collection", "collections.name": "Name", "collections.description": "Description",
	"collections.create": "Create collection", "collections.none": "No collections yet.", "collections.empty": "This collection is empty: add material from each asset's page.",
	"collections.zip": "Download all (ZIP)", "collections.up": "Move up", "collections.down": "Move down", "collections.remove": "Remove",
	"collections.addtitle": "Add to a collection", "collections.add": "Add", "collections.makefirst": "Create a collection first",
	"share.title": "Share with an outlet", "share.recipient": "For (outlet or journalist)", "share.recipient.hint": "e.g. The Daily, Ana Pérez",
	"share.name": "Title", "share.expires": "Expires", "share.starts": "Visible from (embargo, optional)", "share.password": "Password (optional)",
	"share.download": "Allow downloading originals", "share.max": "Download limit (0: none)",
	"share.watermark": "Watermark on previews (optional)", "share.credit": "Credit line to publish with",
	"share.create": "Create link", "share.url": "Link to share", "share.copy": "Copy", "share.once": "Copy it now: for safety it is not shown again.",
	"shares.title": "Shared links", "shares.intro": "Who got what: views, downloads and last access of each link.",
	"shares.state": "State", "shares.views": "Views", "shares.downloads": "Downloads", "shares.last": "Last access", "shares.by": "Created by",
	"shares.revoke": "Revoke", "shares.none": "No links yet.", "shares.locked": "password", "shares.originals": "originals",
	"shares.state.active": "active", "shares.state.scheduled": "scheduled", "shares.state.expired": "expired", "shares.state.revoked": "revoked",
	"users.title": "Users", "users.name": "Name", "users.area": "Area", "users.role": "Role", "users.state": "State",
	"users.actions": "Actions", "users.enabled": "enabled", "users.disabled": "disabled", "users.enable": "Enable", "users.disable": "Disable",
	"users.signout": "Sign out everywhere", "users.new": "New user", "users.create": "Create user",
	"js.added": "Added to the collection.", "js.copied": "Link copied.", "js.revoked": "revoked",
	"js.created": "Done.", "js.confirmrevoke": "Revoke this link? It stops working at once.", "js.signedout": "Sessions closed.",
	"js.enabled": "enabled", "js.disabled": "disabled", "js.enable": "Enable", "js.disable": "Disable",
	"similar.notice": "Looks like material already in the archive:", "similar.at": "from %s",
	"asset.seek":   "Video position (shows a frame on hover)",
	"share.public": "Public link: no password, and the verification page shows it",
}
