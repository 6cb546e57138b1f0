# SPDX-License-Identifier: GPL-2.0-only
#
# bash completion for stsguard's stsd, stsctl and sts-collector: the commands, each command's
# options, and what an option or an operand takes (a file, a directory, a user, a command).
#
# The lists are written out here rather than read from `PROG CMD --help` at completion time:
# pressing TAB must not run a monitor that wants root, nor anything at all. tests/unit/man.c
# compares them with every command's --help, so an option added without its completion fails.
#
# `make install` puts this file in share/bash-completion/completions/ as stsd, with stsctl and
# sts-collector as links to it (bash-completion loads a file by the command's name). Without
# bash-completion: `source completion/stsguard.bash`.

# The commands of PROG, as `PROG --help` lists them.
_stsguard_commands()
{
	case $1 in
	stsd) echo "daemon run policy help version" ;;
	stsctl) echo "verify report prove verify-proof checkpoint cosign seal-init consent key optout status help version" ;;
	sts-collector) echo "serve keygen list stats export kid help version" ;;
	esac
}

# What "PROG CMD" takes, one word each: an option that takes no argument ("--once"), an option
# and the kind of its argument ("--config=file"; kinds: file, dir, user, word = nothing to
# complete), and the operands: "@file" (files), "@cmd" (stsd run: a command after "--"),
# "@sub=a,b" (a subcommand first; then the other operand words, if any, apply).
_stsguard_spec()
{
	case "$1 $2" in
	"stsd daemon")
		echo "--config=file --once --observe --notify -q --quiet" ;;
	"stsd run")
		echo "--policy=file --observe --user=user --log=file --log-key=file --seal-state=file" \
			"--log-max-size=word --events=file --json --allowed -q --quiet --device-cgroup=dir" \
			"--cgroup-parent=dir --consent=file --stdin --config=file -h @cmd" ;;
	"stsd policy")
		echo "--json @sub=check @file" ;;
	"stsctl verify")
		echo "--log-key=file --seal-key=file --since=file --witness-key=file" \
			"--witness-name=word --allow-unsigned-tail --threads=word --json @file" ;;
	"stsctl report")
		echo "--json --html=file --log-key=file --seal-key=file @file" ;;
	"stsctl prove")
		echo "--at=word --from=word -o=file @file" ;;
	"stsctl verify-proof")
		echo "--log-key=file --record=file --since=file @file" ;;
	"stsctl checkpoint")
		echo "--log-key=file --seal-key=file -o=file --output=file @file" ;;
	"stsctl cosign")
		echo "--key=file --name=word --log-key=file -o=file --output=file @file" ;;
	"stsctl seal-init")
		echo "--state=file --epoch=word --start=word" ;;
	"stsctl consent")
		echo "--country=word --state-dir=dir --json @sub=grant,revoke,status" ;;
	"stsctl key")
		echo "--key=file --state-dir=dir --json @sub=show" ;;
	"stsctl optout")
		echo "--status --json --state-dir=dir" ;;
	"stsctl status")
		echo "--state-dir=dir --log=file --json" ;;
	"sts-collector serve")
		echo "--listen=word --tls-cert=file --tls-key=file --signing-key=file --db=file" \
			"--trusted-keys=dir --max-body=word --timeout=word --max-conns=word" \
			"--port-file=file --syslog" ;;
	"sts-collector keygen")
		echo "--signing-key=file" ;;
	"sts-collector list" | "sts-collector stats")
		echo "--db=file --json" ;;
	"sts-collector export")
		echo "--db=file --since=word --after-seq=word" ;;
	"sts-collector kid")
		echo "@file" ;;
	esac
}

# COMPREPLY from a kind of argument: file, dir, user, cmd; nothing for anything else.
_stsguard_complete_kind()
{
	local kind=$1 cur=$2

	case $kind in
	file)
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
	dir)
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -d -- "$cur") ;;
	user)
		mapfile -t COMPREPLY < <(compgen -u -- "$cur") ;;
	cmd)
		mapfile -t COMPREPLY < <(compgen -c -- "$cur" | sort -u) ;;
	esac
}

_stsguard()
{
	local prog=${COMP_WORDS[0]##*/} cword=$COMP_CWORD cur prev cmd spec w i
	local opts="" sub="" operand="" kind="" after_dashdash=0 first_after=0 have_sub=0

	COMPREPLY=()
	cur=${COMP_WORDS[cword]}
	prev=${COMP_WORDS[cword - 1]}
	# "--config=FI" arrives as "--config" "=" "FI" (COMP_WORDBREAKS holds '=').
	if [ "$cur" = "=" ]; then
		cur=""
	elif [ "$prev" = "=" ] && [ "$cword" -ge 2 ]; then
		prev=${COMP_WORDS[cword - 2]}
	fi

	if [ "$cword" -eq 1 ]; then
		if [[ $cur == -* ]]; then
			mapfile -t COMPREPLY < <(compgen -W "--help -h --version" -- "$cur")
		else
			mapfile -t COMPREPLY < <(compgen -W "$(_stsguard_commands "$prog")" -- "$cur")
		fi
		return 0
	fi

	cmd=${COMP_WORDS[1]}
	if [ "$cmd" = help ]; then
		[ "$cword" -eq 2 ] &&
			mapfile -t COMPREPLY < <(compgen -W "$(_stsguard_commands "$prog")" -- "$cur")
		return 0
	fi
	spec=$(_stsguard_spec "$prog" "$cmd")
	[ -n "$spec" ] || return 0

	for w in $spec; do
		case $w in
		@sub=*) sub=${w#@sub=} sub=${sub//,/ } ;;
		@*) operand=${w#@} ;;
		*=*) opts+=" ${w%%=*}" ;;
		*) opts+=" $w" ;;
		esac
	done
	opts+=" --help"

	# The argument of an option.
	for w in $spec; do
		if [[ $w == *=* && $w != @* && ${w%%=*} == "$prev" ]]; then
			_stsguard_complete_kind "${w#*=}" "$cur"
			return 0
		fi
	done

	# stsd run: after "--" comes CMD (a command), then its arguments (files).
	if [ "$operand" = cmd ]; then
		for ((i = 2; i < cword; i++)); do
			if [ "${COMP_WORDS[i]}" = "--" ]; then
				after_dashdash=1
				[ "$i" -eq $((cword - 1)) ] && first_after=1
				break
			fi
		done
		if [ "$after_dashdash" -eq 1 ]; then
			if [ "$first_after" -eq 1 ]; then
				_stsguard_complete_kind cmd "$cur"
			else
				_stsguard_complete_kind file "$cur"
			fi
			return 0
		fi
	fi

	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
		return 0
	fi

	if [ -n "$sub" ]; then
		for ((i = 2; i < cword; i++)); do
			for w in $sub; do
				[ "${COMP_WORDS[i]}" = "$w" ] && have_sub=1
			done
		done
		if [ "$have_sub" -eq 0 ]; then
			mapfile -t COMPREPLY < <(compgen -W "$sub" -- "$cur")
			return 0
		fi
	fi
	case $operand in
	file) kind=file ;;
	cmd) kind="" ;; # before "--": only options
	esac
	[ -n "$kind" ] && _stsguard_complete_kind "$kind" "$cur"
	return 0
}

complete -F _stsguard stsd stsctl sts-collector
