/**
 * @module
 * The systemd user unit for `berth daemon`, with the command that starts it. The unit shipped in
 * `daemon/berth-daemon.service` is this text for `/usr/bin/env berth`; `berth daemon install-unit`
 * writes it with the absolute path of the running berth, which also works for `~/.local`, nvm and
 * standalone installs that systemd's own PATH does not see.
 */

/** The unit's text; `berth` is the command line that runs berth (program, and script if any). */
export function unitText(berth: string): string {
  return `# systemd user unit for \`berth daemon\`. \`berth daemon install-unit\` writes it, with the absolute
# path of berth in ExecStart, to ~/.config/systemd/user/berth-daemon.service
# then: systemctl --user daemon-reload && systemctl --user enable --now berth-daemon
# The socket is $XDG_RUNTIME_DIR/berth/daemon.sock (%t/berth), where docker-credential-berth looks.
# Cloud credentials come from the usual places (~/.aws, ADC, …) or from Environment= lines below.
[Unit]
Description=berth registry credential daemon (refresh-ahead token cache)

[Service]
Type=simple
ExecStart=${berth} daemon start
# SIGHUP: re-read the config file (systemctl --user reload berth-daemon).
ExecReload=/bin/kill -HUP $MAINPID
# SIGTERM: stop accepting, finish in-flight requests, remove the socket.
KillSignal=SIGTERM
TimeoutStopSec=15
Restart=on-failure
RestartSec=2
UMask=0077
NoNewPrivileges=yes
PrivateTmp=yes
# Environment=AWS_PROFILE=registry-reader

[Install]
WantedBy=default.target
`;
}

/** The command line of the running berth: node and the script, or a standalone binary alone. */
export function runningBerth(execPath: string, script: string | undefined, exists: (path: string) => boolean): string {
  const quote = (path: string) => (/^[A-Za-z0-9_./+-]+$/.test(path) ? path : `"${path.replace(/(["\\$`])/g, '\\$1')}"`);
  if (script && /\.[cm]?js$/.test(script) && exists(script)) return `${quote(execPath)} ${quote(script)}`;
  return quote(execPath);
}
