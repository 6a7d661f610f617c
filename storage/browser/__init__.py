"""Object browser: folders, objects, versions, downloads, share links, uploads, expiry."""
