/**
 * Follows a chunked request body through the bytes that carry it, to find where it ends (and the next request
 * begins). The bytes themselves are forwarded untouched; only sizes and the final trailer are read.
 */
export class ChunkedBody {
  private state: 'size' | 'data' | 'data-end' | 'trailer' = 'size';
  private line = '';
  private remaining = 0;

  /**
   * Reads `chunk` from `offset`. Returns the index just past the body's end, -1 when the body goes on past this
   * chunk, or -2 when the bytes are not valid chunked encoding.
   */
  scan(chunk: Buffer, offset: number): number {
    let at = offset;
    while (at < chunk.length) {
      switch (this.state) {
        case 'data': {
          const n = Math.min(this.remaining, chunk.length - at);
          at += n;
          this.remaining -= n;
          if (this.remaining === 0) {
            this.state = 'data-end';
            this.remaining = 2; // CRLF after the data
          }
          break;
        }
        case 'data-end': {
          const n = Math.min(this.remaining, chunk.length - at);
          at += n;
          this.remaining -= n;
          if (this.remaining === 0) this.state = 'size';
          break;
        }
        case 'size':
        case 'trailer': {
          const newline = chunk.indexOf(10, at);
          const stop = newline < 0 ? chunk.length : newline;
          this.line += chunk.toString('latin1', at, stop);
          if (this.line.length > 4096) return -2;
          if (newline < 0) return -1;
          at = newline + 1;
          const line = this.line.replace(/\r$/, '');
          this.line = '';
          if (this.state === 'trailer') {
            if (line === '') return at; // the blank line after the trailers: done
            break;
          }
          const size = /^[0-9a-fA-F]{1,12}(?=[ \t;]|$)/.exec(line);
          if (!size) return -2;
          this.remaining = Number.parseInt(size[0], 16);
          this.state = this.remaining === 0 ? 'trailer' : 'data';
          break;
        }
      }
    }
    return -1;
  }
}
