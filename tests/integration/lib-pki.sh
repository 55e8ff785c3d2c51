# shellcheck shell=bash
# tests/integration/lib-pki.sh - the test PKI and bodies (sourced by lib.sh).
#
# pki_ensure makes, once per build directory ($T_CACHE, under a lock), with
# the openssl CLI, every key EC P-256, every signature ECDSA-SHA256:
#   public-root.crt      "Test Public Root": the fake web PKI; the gateway's
#                        upstream trust_file.  Nothing else trusts it.
#   public-int.crt       "Test Public Issuing CA" (root -> int -> leaf, so
#                        upstream verification must use the served chain)
#   sites.*              example.com news.ycombinator.com en.wikipedia.org
#                        site-a.test api.github.com git.test pinned.test,
#                        IP 198.18.0.10, 2001:2::10   (nginx, main address)
#   echo.*               echo.test ws.test other.test
#                        api.github.com.evil.example, IP 198.18.0.12,
#                        2001:2::12                   (upstream.py)
#   bad.*                bad.test, signed by "Test Untrusted Root"
#   expired.*            expired.test, public chain, valid 2020..2021 only
#   wrongname.*          public chain, names only not-wrongname.test
#   selfsigned.*         selfsigned.test, self-signed
# Each leaf has NAME.key, NAME.crt and NAME.chain.pem (leaf + issuing CA,
# what a server sends).  The group CA is not here: ca-tool makes it per
# test (ca_generate in lib-gw.sh).
# www_ensure makes the deterministic bodies 1k, 64k, 10m + SHA256SUMS.

PKI_VERSION=1

pki_key() { # FILE
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	    -pkeyopt ec_param_enc:named_curve -out "$1" 2>/dev/null
	chmod 600 "$1"
}

pki_root() { # NAME CN
	pki_key "$1.key"
	openssl req -x509 -new -key "$1.key" -sha256 -days 3650 \
	    -subj "/O=gatewayd tests/CN=$2" -out "$1.crt" \
	    -addext "basicConstraints=critical,CA:TRUE" \
	    -addext "keyUsage=critical,keyCertSign,cRLSign" \
	    -addext "subjectKeyIdentifier=hash" 2>/dev/null
}

pki_ext_leaf() { # SANS -> extension file on stdout
	cat <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=$1
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
EOF
}

# pki_leaf NAME ISSUER CN SANS [STARTDATE ENDDATE]
pki_leaf() {
	local name=$1 issuer=$2 cn=$3 sans=$4
	pki_key "$name.key"
	openssl req -new -key "$name.key" -subj "/O=gatewayd tests upstream/CN=$cn" \
	    -out "$name.csr" 2>/dev/null
	pki_ext_leaf "$sans" >"$name.ext"
	if [ $# -ge 6 ]; then
		# openssl x509 cannot date a certificate in the past; ca can.
		mkdir -p ca-db/new
		: >ca-db/index.txt
		echo 01 >ca-db/serial
		cat >ca-db/ca.cnf <<EOF
[ca]
default_ca = dflt
[dflt]
database = ca-db/index.txt
new_certs_dir = ca-db/new
serial = ca-db/serial
default_md = sha256
policy = any
unique_subject = no
[any]
commonName = supplied
organizationName = optional
EOF
		openssl ca -batch -config ca-db/ca.cnf -notext -rand_serial -preserveDN \
		    -cert "$issuer.crt" -keyfile "$issuer.key" -in "$name.csr" \
		    -startdate "$5" -enddate "$6" -extfile "$name.ext" \
		    -out "$name.crt" 2>/dev/null
	else
		openssl x509 -req -in "$name.csr" -CA "$issuer.crt" \
		    -CAkey "$issuer.key" -set_serial "0x$(openssl rand -hex 15)" \
		    -days 825 -sha256 -extfile "$name.ext" -out "$name.crt" 2>/dev/null
	fi
	cat "$name.crt" >"$name.chain.pem"
	case $issuer in *-int) cat "$issuer.crt" >>"$name.chain.pem" ;; esac
	rm -f "$name.csr" "$name.ext"
}

pki_make() { # DIR
	local d=$1 n sans
	rm -rf "$d"
	mkdir -p "$d"
	(
		cd "$d" || exit 1
		pki_root public-root "Test Public Root"
		pki_root untrusted-root "Test Untrusted Root"
		# the issuing CA, signed by the root
		pki_key public-int.key
		openssl req -new -key public-int.key -out public-int.csr \
		    -subj "/O=gatewayd tests/CN=Test Public Issuing CA" 2>/dev/null
		printf '%s\n' "basicConstraints=critical,CA:TRUE,pathlen:0" \
		    "keyUsage=critical,keyCertSign,cRLSign" \
		    "subjectKeyIdentifier=hash" "authorityKeyIdentifier=keyid" >int.ext
		openssl x509 -req -in public-int.csr -CA public-root.crt \
		    -CAkey public-root.key -set_serial "0x$(openssl rand -hex 15)" \
		    -days 3000 -sha256 -extfile int.ext -out public-int.crt 2>/dev/null
		rm -f public-int.csr int.ext

		sans=
		for n in $NAMES_MAIN; do sans="${sans}DNS:$n,"; done
		pki_leaf sites public-int example.com \
		    "${sans}IP:$INET_MAIN_IP,IP:$INET_MAIN_IP6"
		sans=
		for n in $NAMES_ECHO; do sans="${sans}DNS:$n,"; done
		pki_leaf echo public-int echo.test \
		    "${sans}IP:$INET_ECHO_IP,IP:$INET_ECHO_IP6"
		pki_leaf bad untrusted-root bad.test "DNS:bad.test"
		pki_leaf expired public-int expired.test "DNS:expired.test" \
		    20200101000000Z 20210101000000Z
		pki_leaf wrongname public-int not-wrongname.test \
		    "DNS:not-wrongname.test"
		pki_key selfsigned.key
		openssl req -x509 -new -key selfsigned.key -sha256 -days 825 \
		    -subj "/O=gatewayd tests upstream/CN=selfsigned.test" \
		    -addext "basicConstraints=critical,CA:FALSE" \
		    -addext "subjectAltName=DNS:selfsigned.test" \
		    -addext "extendedKeyUsage=serverAuth" \
		    -out selfsigned.crt 2>/dev/null
		cp selfsigned.crt selfsigned.chain.pem
		rm -rf ca-db
		chmod 644 ./*.crt ./*.pem
		# errexit may be off here (pki_ensure runs this in a || list):
		# check the result explicitly
		for n in public-root untrusted-root public-int sites echo bad \
		    expired wrongname selfsigned; do
			[ -s "$n.crt" ] && [ -s "$n.key" ] || exit 1
		done
		openssl verify -CAfile public-root.crt -untrusted public-int.crt \
		    sites.crt echo.crt wrongname.crt >/dev/null || exit 1
		openssl verify -CAfile untrusted-root.crt bad.crt >/dev/null || exit 1
		! openssl x509 -in expired.crt -noout -checkend 0 >/dev/null || exit 1
		echo "$PKI_VERSION" >VERSION
	)
}

# pki_ensure: make the PKI unless this build dir already has it.
pki_ensure() {
	[ "$(cat "$PKI/VERSION" 2>/dev/null)" = "$PKI_VERSION" ] && return 0
	(
		flock -w 60 9 || exit 1
		[ "$(cat "$PKI/VERSION" 2>/dev/null)" = "$PKI_VERSION" ] && exit 0
		pki_make "$PKI.new.$$" || exit 1
		[ -f "$PKI.new.$$/VERSION" ] || exit 1
		rm -rf "$PKI" && mv "$PKI.new.$$" "$PKI"
	) 9>"$T_CACHE/pki.lock" || error "cannot make the test PKI in $PKI"
}

# www_ensure: bodies 1k 64k 10m (deterministic, incompressible) in $WWW.
www_ensure() {
	[ -f "$WWW/SHA256SUMS" ] && return 0
	(
		flock -w 60 9 || exit 1
		[ -f "$WWW/SHA256SUMS" ] && exit 0
		local d=$WWW.new.$$
		rm -rf "$d"
		mkdir -p "$d"
		"$PY" - "$d" <<'EOF'
import hashlib, sys
d = sys.argv[1]
out = b"".join(hashlib.sha256(b"gatewayd-www-%d" % i).digest()
              for i in range(10 * 1024 * 1024 // 32))
for name, n in (("1k", 1024), ("64k", 65536), ("10m", 10 * 1024 * 1024)):
    with open(f"{d}/{name}", "wb") as f:
        f.write(out[:n])
EOF
		[ "$(stat -c %s "$d/10m")" = 10485760 ] || exit 1
		(cd "$d" && sha256sum 1k 64k 10m >SHA256SUMS) || exit 1
		chmod 755 "$d"
		chmod 644 "$d"/*
		rm -rf "$WWW" && mv "$d" "$WWW"
	) 9>"$T_CACHE/www.lock" || error "cannot make the bodies in $WWW"
}
