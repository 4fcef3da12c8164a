# bash completion for roar: subcommands, their flags, config keys for
# `roar config get|set`, and @N / @NAME step references (from `roar log`
# and `roar dag --json` in the current project) where a job or step is taken.
# Installed as share/bash-completion/completions/roar.

# Step references of the project in the current directory, one per line.
_roar_refs()
{
    roar --no-color log 2>/dev/null | awk '$1 ~ /^@/ { print $1 }'
    roar dag --json 2>/dev/null | grep -o '"step_name": *"[^"]*"' | sed 's/.*"\([^"]*\)"$/@\1/'
}

_roar()
{
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
    local commands="init run show env reproduce log dag status export diff pop reset import store config proxy"
    local global="--no-color --version --help"
    # The subcommand: the first word after `roar` that is not a global flag.
    local i sub="" at=0
    for ((i = 1; i < COMP_CWORD; i++)); do
        if [[ ${COMP_WORDS[i]} != -* ]]; then
            sub=${COMP_WORDS[i]}
            at=$i
            break
        fi
    done
    if [[ -z $sub ]]; then
        COMPREPLY=($(compgen -W "$commands $global" -- "$cur"))
        return
    fi
    local flags=""
    case $sub in
    init) flags="-y --yes -n --no --store --join" ;;
    run)
        # After the command starts, complete it as a command line of its own.
        for ((i = at + 1; i < COMP_CWORD; i++)); do
            case ${COMP_WORDS[i]} in
            -n | --name | --hash) ((i++)) ;;
            -*) ;;
            *)
                if declare -F _command_offset >/dev/null; then
                    _command_offset "$i"
                else
                    COMPREPLY=($(compgen -f -- "$cur"))
                fi
                return
                ;;
            esac
        done
        case $prev in
        --hash) COMPREPLY=($(compgen -W "sha256" -- "$cur")); return ;;
        -n | --name) return ;;
        esac
        if [[ $cur == @* ]]; then
            COMPREPLY=($(compgen -W "$(_roar_refs)" -- "$cur"))
            return
        fi
        flags="-q --quiet --json -n --name --hash --"
        if [[ $cur != -* ]]; then
            COMPREPLY=($(compgen -c -- "$cur"))
            return
        fi
        ;;
    show) flags="--json --lineage --all" ;;
    env) flags="--json" ;;
    reproduce)
        [[ $prev == --dir ]] && { COMPREPLY=($(compgen -d -- "$cur")); return; }
        flags="--run --dir --json"
        ;;
    log) flags="--json --session -n --last --failed" ;;
    dag)
        case $prev in
        --format) COMPREPLY=($(compgen -W "dot mermaid" -- "$cur")); return ;;
        --html) COMPREPLY=($(compgen -f -- "$cur")); return ;;
        esac
        flags="--expanded --stale-only --show-artifacts --json --format --html"
        ;;
    status) flags="--json --remote --all-hosts" ;;
    export)
        [[ $prev == --format ]] && { COMPREPLY=($(compgen -W "openlineage" -- "$cur")); return; }
        flags="--format --session --url --namespace"
        ;;
    diff) flags="--json" ;;
    pop) flags="-y --yes" ;;
    store) flags="sync" ;;
    proxy) flags="enable disable start stop" ;;
    config)
        local action=${COMP_WORDS[at + 1]}
        if ((COMP_CWORD == at + 1)); then
            COMPREPLY=($(compgen -W "list get set" -- "$cur"))
        elif ((COMP_CWORD == at + 2)) && [[ $action == get || $action == set ]]; then
            COMPREPLY=($(compgen -W "$(roar config list --json 2>/dev/null | grep -o '"key": *"[^"]*"' | sed 's/.*"\([^"]*\)"$/\1/')" -- "$cur"))
        elif [[ $action == list ]]; then
            COMPREPLY=($(compgen -W "--json" -- "$cur"))
        fi
        return
        ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$flags --help" -- "$cur"))
    elif [[ $sub == show || $sub == env || $sub == reproduce || $sub == diff || $sub == export ]]; then
        COMPREPLY=($(compgen -W "$(_roar_refs)" -- "$cur") $(compgen -f -- "$cur"))
    elif [[ $sub == store || $sub == proxy ]]; then
        COMPREPLY=($(compgen -W "$flags" -- "$cur"))
    elif [[ $sub == import ]]; then
        COMPREPLY=($(compgen -f -- "$cur"))
    fi
}
complete -F _roar roar
