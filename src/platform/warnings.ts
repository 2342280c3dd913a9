/** Where a library function sends a warning; the CLI's default prints `portbroker: warning: …` on stderr. */
export type WarningSink = (message: string) => void;

export function warn(sink: WarningSink | undefined, message: string): void {
  (sink ?? ((m: string) => process.stderr.write(`portbroker: warning: ${m}\n`)))(message);
}
