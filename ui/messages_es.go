package ui

// messagesES is the Spanish (Mexico) catalog, the default. Keys starting
// with "js." are also sent to the JavaScript islands ({0}, {1} are their
// placeholders); the rest may be fmt formats.
var messagesES = map[string]string{
	"nav.skip": "Saltar al contenido", "nav.label": "Secciones", "nav.search": "Buscar", "nav.upload": "Subir",
	"nav.events": "Eventos", "nav.people": "Personas", "nav.timeline": "Cronología", "nav.admin": "Administración",
	"nav.logout": "Salir",

	"role.admin": "administración", "role.editor": "edición", "role.contributor": "fotografía y video", "role.viewer": "consulta",

	"login.title": "Iniciar sesión", "login.username": "Usuario", "login.password": "Contraseña", "login.submit": "Entrar",

	"error.home": "Volver al inicio", "error.notfound": "No encontrado", "error.notfound.text": "Esa página no existe o ya no está disponible.",
	"error.forbidden": "Sin permiso", "error.forbidden.text": "Su rol no permite ver esta página.",
	"error.internal": "Error interno", "error.internal.text": "Algo falló de nuestro lado. Intente de nuevo; si sigue, avise a sistemas con este código: %s",

	"kind.photo": "Foto", "kind.video": "Video", "kind.audio": "Audio", "kind.document": "Documento",
	"status.processing": "Procesando…", "status.ready": "Listo", "status.failed": "Falló el procesamiento",

	"search.title": "Buscar en el acervo", "search.q": "Buscar", "search.placeholder": "p. ej. inauguración parque",
	"search.submit": "Buscar", "search.options": "Fechas y orden", "search.from": "Desde", "search.to": "Hasta",
	"search.sort": "Orden", "search.sort.relevance": "Relevancia", "search.sort.newest": "Más recientes primero",
	"search.sort.oldest": "Más antiguos primero", "search.sort.uploaded": "Subidos recientemente",
	"search.active": "Filtros aplicados", "search.remove": "quitar filtro", "search.facets": "Filtrar resultados",
	"search.total.one": "%d resultado", "count.items.one": "%d elemento",
	"search.total": "%d resultados", "search.more": "Ver más", "search.empty": "Todavía no hay material.",
	"facet.kind": "Tipo", "facet.event": "Evento", "facet.person": "Persona", "facet.tag": "Etiqueta", "facet.year": "Año",
	"facet.from": "Desde", "facet.to": "Hasta", "facet.q": "Texto",

	"asset.zoom": "Acercar o alejar", "asset.zoomhint": "Haga clic o pulse Enter en la foto para verla a tamaño completo.",
	"asset.waveform": "Forma de onda del audio; haga clic para ir a ese momento", "asset.page1": "Página 1",
	"asset.original": "Descargar original", "asset.proxy": "Descargar video ligero (MP4)", "asset.audioproxy": "Descargar audio ligero (M4A)",
	"asset.preview": "Descargar vista previa (JPEG)", "asset.text": "Texto del documento", "asset.metadata": "Datos",
	"clip.title": "Recortar un fragmento", "clip.in": "Marcar inicio", "clip.out": "Marcar fin", "clip.download": "Descargar fragmento",
	"clip.hint": "Reproduzca y marque el inicio y el fin en la posición actual; el fragmento se corta en el servidor.",

	"field.title": "Título", "field.caption": "Pie de foto / descripción", "field.event": "Evento", "field.people": "Personas",
	"field.tags": "Etiquetas", "field.captured": "Fecha de toma", "field.uploaded": "Subido", "field.filename": "Archivo",
	"field.credit": "Crédito", "field.creator": "Autor", "field.copyright": "Derechos", "field.place": "Lugar",
	"field.size": "Dimensiones", "field.camera": "Cámara", "field.codecs": "Códecs", "field.pages": "Páginas",
	"edit.title": "Editar datos", "edit.commas": "(separadas por comas)", "edit.noevent": "— Sin evento —", "edit.save": "Guardar",

	"upload.title": "Subir material", "upload.batch": "Datos para todos los archivos",
	"upload.eventhint": "(elija uno o escriba uno nuevo: se crea al subir)",
	"upload.drop":      "Arrastre aquí fotos, videos, audios o PDF, o", "upload.choose": "Elegir archivos",

	"events.title": "Eventos", "events.none": "Todavía no hay eventos.", "event.cover": "Portada",
	"event.search": "Buscar dentro de este material", "count.items": "%d elementos",
	"people.title": "Personas", "people.none": "Todavía no hay personas registradas.",
	"timeline.title": "Cronología", "timeline.years": "Años",

	"admin.title": "Administración", "admin.queue": "Cola de trabajos", "admin.depth": "%d en espera, %d en proceso",
	"admin.kind": "Tipo", "admin.queued": "En espera", "admin.empty": "Nada en espera.", "admin.failed": "Trabajos fallidos",
	"admin.when": "Cuándo", "admin.asset": "Material", "admin.attempts": "Intentos", "admin.reason": "Motivo",
	"admin.nofailed": "Ningún trabajo ha fallado.", "admin.retry": "Reintentar", "js.retried": "Trabajo en cola de nuevo.",
	"admin.storage": "Almacenamiento e índice", "admin.disk": "Disco de datos", "admin.free": "%s libres de %s",
	"admin.uploads": "Subidas reanudables en curso", "admin.index": "Índice de búsqueda",
	"admin.indexed": "%d elementos indexados", "admin.rebuilding": "Reconstruyéndose…", "admin.noindex": "No disponible",

	"month.1": "enero", "month.2": "febrero", "month.3": "marzo", "month.4": "abril", "month.5": "mayo", "month.6": "junio",
	"month.7": "julio", "month.8": "agosto", "month.9": "septiembre", "month.10": "octubre", "month.11": "noviembre", "month.12": "diciembre",
	"month.short.1": "ene", "month.short.2": "feb", "month.short.3": "mar", "month.short.4": "abr", "month.short.5": "may", "month.short.6": "jun",
	"month.short.7": "jul", "month.short.8": "ago", "month.short.9": "sep", "month.short.10": "oct", "month.short.11": "nov", "month.short.12": "dic",

	"js.loginfail": "No se pudo iniciar sesión.", "js.waiting": "En espera", "js.uploading": "Subiendo {0} %",
	"js.paused": "En pausa", "js.pause": "Pausar", "js.resume": "Reanudar", "js.retrying": "Sin conexión; reintentando…",
	"js.processing": "Subido; procesando…", "js.ready": "Listo", "js.failed": "Subido, pero falló el procesamiento: {0}",
	"js.duplicate": "Ya estaba en el acervo", "js.refused": "Rechazado: {0}", "js.error": "Error: {0}", "js.open": "Abrir",
	"js.summary": "{0} de {1} archivos · {2} de {3}", "js.speed": "{0}/s", "js.left": "quedan {0}",
	"js.pending":  "Hay {0} subidas sin terminar. Elija de nuevo los mismos archivos para reanudarlas donde se quedaron.",
	"js.pending1": "Hay una subida sin terminar. Elija de nuevo el mismo archivo para reanudarla donde se quedó.",
	"js.saved":    "Guardado.", "js.savefail": "No se guardó: {0}",

	// Issue #5: collections, share links, users.
	"nav.collections": "Colecciones", "nav.shares": "Enlaces", "nav.users": "Usuarios",
	"collections.title": "Colecciones", "collections.intro": "Conjuntos ordenados de material: kits de prensa, el informe anual…",
	"collections.new": "Nueva colección", "collections.name": "Nombre", "collections.description": "Descripción",
	"collections.create": "Crear colección", "collections.none": "Todavía no hay colecciones.", "collections.empty": "Esta colección está vacía: agregue material desde la página de cada archivo.",
	"collections.zip": "Descargar todo (ZIP)", "collections.up": "Subir", "collections.down": "Bajar", "collections.remove": "Quitar",
	"collections.addtitle": "Agregar a una colección", "collections.add": "Agregar", "collections.makefirst": "Cree primero una colección",
	"share.title": "Compartir con un medio", "share.recipient": "Para (medio o periodista)", "share.recipient.hint": "p. ej. El Diario, Ana Pérez",
	"share.name": "Título", "share.expires": "Vence", "share.starts": "Visible desde (embargo, opcional)", "share.password": "Contraseña (opcional)",
	"share.download": "Permitir descargar originales", "share.max": "Máximo de descargas (0: sin límite)",
	"share.watermark": "Marca de agua en las vistas previas (opcional)", "share.credit": "Crédito para publicar",
	"share.create": "Crear enlace", "share.url": "Enlace para compartir", "share.copy": "Copiar", "share.once": "Cópielo ahora: por seguridad no se vuelve a mostrar.",
	"shares.title": "Enlaces compartidos", "shares.intro": "Quién recibió qué: visitas, descargas y último acceso de cada enlace.",
	"shares.state": "Estado", "shares.views": "Visitas", "shares.downloads": "Descargas", "shares.last": "Último acceso", "shares.by": "Creó",
	"shares.revoke": "Revocar", "shares.none": "Todavía no hay enlaces.", "shares.locked": "con contraseña", "shares.originals": "originales",
	"shares.state.active": "activo", "shares.state.scheduled": "programado", "shares.state.expired": "vencido", "shares.state.revoked": "revocado",
	"users.title": "Usuarios", "users.name": "Nombre", "users.area": "Área", "users.role": "Rol", "users.state": "Estado",
	"users.actions": "Acciones", "users.enabled": "activo", "users.disabled": "desactivado", "users.enable": "Activar", "users.disable": "Desactivar",
	"users.signout": "Cerrar sus sesiones", "users.new": "Nuevo usuario", "users.create": "Crear usuario",
	"js.added": "Agregado a la colección.", "js.copied": "Enlace copiado.", "js.revoked": "revocado",
	"js.created": "Listo.", "js.confirmrevoke": "¿Revocar este enlace? Dejará de funcionar de inmediato.", "js.signedout": "Sesiones cerradas.",
	"js.enabled": "activo", "js.disabled": "desactivado", "js.enable": "Activar", "js.disable": "Desactivar",
	"similar.notice": "Parecido a material que ya está en el acervo:", "similar.at": "desde %s",
	"asset.seek":   "Posición del video (muestra un cuadro al pasar el puntero)",
	"share.public": "Enlace público: sin contraseña, y la página de verificación lo muestra",
}
