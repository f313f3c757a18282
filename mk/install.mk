# install.mk - `make install` (PREFIX, DESTDIR), man pages, `make deb`.
#
#   make install                      PREFIX=/usr/local: programs, guest agent, web console
#                                     (share/gureum/web), man pages, bash completion, docs,
#                                     systemd units
#   make install PREFIX=/usr DESTDIR=/tmp/root UNITDIR=/lib/systemd/system
#   make deb                          build/deb/gureum_VERSION_ARCH.deb (dpkg-buildpackage,
#                                     debian/ with debhelper), from the binaries in build/
PREFIX   ?= /usr/local
DESTDIR  ?=
BINDIR   ?= $(PREFIX)/bin
LIBEXEC  ?= $(PREFIX)/libexec/gureum
MANDIR   ?= $(PREFIX)/share/man
DOCDIR   ?= $(PREFIX)/share/doc/gureum
COMPDIR  ?= $(PREFIX)/share/bash-completion/completions
UNITDIR  ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d

MANPAGES := $(BUILD)/man/gureum.1 $(BUILD)/man/gureum-oci.1 $(BUILD)/man/gureumd.8
$(BUILD)/man/gureum.1: $(BUILD)/bin/gureum scripts/mkman.sh
	scripts/mkman.sh $< 1 $@
$(BUILD)/man/gureum-oci.1: $(BUILD)/bin/gureum-oci scripts/mkman.sh
	scripts/mkman.sh $< 1 $@
$(BUILD)/man/gureumd.8: $(BUILD)/bin/gureumd scripts/mkman.sh
	scripts/mkman.sh $< 8 $@

.PHONY: man install deb
man: $(MANPAGES)

install: $(BUILD)/bin/gureum $(BUILD)/bin/gureumd $(BUILD)/bin/gureum-oci $(GUEST_AGENT) web man
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBEXEC) $(DESTDIR)$(MANDIR)/man1 \
	  $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DOCDIR) $(DESTDIR)$(COMPDIR) $(DESTDIR)$(UNITDIR) \
	  $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR) $(DESTDIR)$(PREFIX)/share/gureum/web
	install -m 0755 $(BUILD)/bin/gureum $(BUILD)/bin/gureumd $(BUILD)/bin/gureum-oci $(DESTDIR)$(BINDIR)/
	install -m 0755 $(GUEST_AGENT) $(DESTDIR)$(LIBEXEC)/
	install -m 0644 $(WEB_OUT)/* $(DESTDIR)$(PREFIX)/share/gureum/web/
	install -m 0644 $(BUILD)/man/gureum.1 $(BUILD)/man/gureum-oci.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 $(BUILD)/man/gureumd.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 README.md docs/*.md $(DESTDIR)$(DOCDIR)/
	install -m 0644 dist/bash-completion/gureum $(DESTDIR)$(COMPDIR)/gureum
	sed 's|/usr/bin/gureumd|$(BINDIR)/gureumd|' dist/systemd/gureumd.service \
	  >$(DESTDIR)$(UNITDIR)/gureumd.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/gureumd.service
	install -m 0644 dist/systemd/gureum.sysusers $(DESTDIR)$(SYSUSERSDIR)/gureum.conf
	install -m 0644 dist/systemd/gureum.tmpfiles $(DESTDIR)$(TMPFILESDIR)/gureum.conf

# dpkg-buildpackage writes the .changes and .buildinfo beside the .deb in build/deb/,
# not in the parent folder; debian/rules installs from build/ (built by `make all`).
DEB_WORK := debian/.debhelper debian/gureum debian/files debian/*.substvars debian/*.debhelper \
	    debian/*.debhelper.log debian/debhelper-build-stamp
deb: all man
	@rm -rf $(DEB_WORK) build/deb
	@mkdir -p build/deb
	dpkg-buildpackage -b -us -uc -nc --buildinfo-option=-ubuild/deb --changes-option=-ubuild/deb \
	  --buildinfo-file=build/deb/gureum.buildinfo --changes-file=build/deb/gureum.changes
	@rm -rf $(DEB_WORK)
