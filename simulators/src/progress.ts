/** A live progress line on stderr for long operations (rewritten in place on a terminal, a line per step otherwise). */
export function progressLine(label: string): (done: number, total: number) => void {
  let last = 0;
  return (done, total) => {
    const now = Date.now();
    if (done < total && now - last < 500) return;
    last = now;
    const percent = total > 0 ? Math.floor((done / total) * 100) : 100;
    const text = `${label}: ${done.toLocaleString('en')} / ${total.toLocaleString('en')} (${percent}%)`;
    if (process.stderr.isTTY) process.stderr.write(`\r${text}${done >= total ? '\n' : ''}`);
    else if (done >= total || percent % 10 === 0) process.stderr.write(`${text}\n`);
  };
}
