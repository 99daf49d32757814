/**
 * The questions of `paperhound setup`, asked with @inquirer/prompts on the context's streams, or
 * answered without asking (`--yes`): a flag's value first, then the saved answer, then the default.
 * A flag's value is checked like a typed one; a bad one stops set-up with a message naming the flag.
 */
import { Writable } from "node:stream";
import { checkbox, confirm, input, number, password, select } from "@inquirer/prompts";
import type { AppContext } from "../app/context.js";
import { PaperhoundError } from "../errors.js";

/** A question could not be answered (a flag's value refused, a token refused every try, Ctrl+C). */
export class SetupError extends PaperhoundError {
  readonly identifier = "setup";
  override readonly name = "SetupError";
}

export interface Choice<V extends string> {
  value: V;
  name: string;
  checked?: boolean;
}

/** Where a non-interactive answer came from, for its error message. */
interface AnswerSource {
  /** The flag that gives it ("--discord-token"). */
  flag: string;
  /** The setting it is saved as, if any ("DISCORD_TOKEN"). */
  setting?: string;
}

interface TextQuestion extends AnswerSource {
  message: string;
  /** The flag's value, if given. */
  given: string | undefined;
  /** The saved answer (or the default), offered with Enter. */
  saved: string | undefined;
  allowEmpty?: boolean;
  /** What is wrong with an answer, or undefined. */
  problem: (value: string) => string | undefined;
}

interface SecretQuestion extends AnswerSource {
  label: string;
  given: string | undefined;
  saved: string | undefined;
  problem: (value: string) => string | undefined;
  tries: number;
  /** Checks the value with its service; throws an error whose message says what is wrong. */
  check: (value: string) => Promise<void>;
}

const STOPPED = "set-up stopped; nothing was written";

/** "--index" for a flag's value, "PAPERHOUND_INDEX in the settings file" for a saved one. */
function sourceOf(q: AnswerSource, given: boolean): string {
  return given || q.setting === undefined ? q.flag : `${q.setting} in the settings file`;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class SetupPrompts {
  constructor(
    private readonly ctx: AppContext,
    readonly interactive: boolean,
  ) {}

  /** Each prompt gets its own output stream: the library ends it when the prompt is done. */
  private context() {
    const stdout = this.ctx.stdout;
    return {
      input: this.ctx.stdin,
      output: new Writable({
        write(chunk, _encoding, done) {
          stdout.write(chunk);
          done();
        },
      }),
    };
  }

  /** Runs a prompt; Ctrl+C (or a closed input) becomes a SetupError. */
  private async prompt<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      if (err instanceof Error && (err.name === "ExitPromptError" || err.name === "AbortPromptError" || err.name === "CancelPromptError")) throw new SetupError(STOPPED);
      throw err;
    }
  }

  async pickMany<V extends string>(message: string, choices: Choice<V>[]): Promise<V[]> {
    return this.prompt(() => checkbox({ message, choices: choices.map((c) => ({ value: c.value, name: c.name, checked: c.checked === true })) }, this.context()));
  }

  async choose<V extends string>(message: string, choices: Choice<V>[], given: V | undefined, saved: V): Promise<V> {
    if (given !== undefined || !this.interactive) return given ?? saved;
    return this.prompt(() => select({ message, choices: choices.map((c) => ({ value: c.value, name: c.name })), default: saved }, this.context()));
  }

  async yesNo(message: string, given: boolean | undefined, saved: boolean): Promise<boolean> {
    if (given !== undefined || !this.interactive) return given ?? saved;
    return this.prompt(() => confirm({ message, default: saved }, this.context()));
  }

  async count(message: string, given: number | undefined, saved: number): Promise<number> {
    if (given !== undefined || !this.interactive) return given ?? saved;
    const answer = await this.prompt(() => number({ message, default: saved, min: 0, max: 3650, step: 1, required: true }, this.context()));
    return answer ?? saved;
  }

  async text(q: TextQuestion): Promise<string> {
    const valid = (v: string) => (v === "" ? (q.allowEmpty ? undefined : "an answer is needed") : q.problem(v));
    if (q.given !== undefined || !this.interactive) {
      const value = (q.given ?? q.saved ?? "").trim();
      const problem = valid(value);
      if (problem) throw new SetupError(`${sourceOf(q, q.given !== undefined)} ${JSON.stringify(value)} is not allowed: ${problem}`);
      return value;
    }
    const answer = await this.prompt(() =>
      input({ message: q.message, ...(q.saved !== undefined ? { default: q.saved } : {}), validate: (v) => valid(v.trim()) ?? true }, this.context()),
    );
    return answer.trim();
  }

  /**
   * A secret, never echoed: typed (Enter keeps the saved one), checked with its service, asked
   * again after a refusal (`tries` in all). A given or saved value is checked once.
   */
  async checkedSecret(q: SecretQuestion): Promise<string> {
    if (q.given !== undefined || !this.interactive) {
      const value = (q.given ?? q.saved)?.trim();
      if (value === undefined) throw new SetupError(`${q.label} is needed: with --yes, pass ${q.flag}`);
      const problem = q.problem(value);
      if (problem) throw new SetupError(`${sourceOf(q, q.given !== undefined)} is not allowed (${problem})`);
      try {
        await q.check(value);
      } catch (err) {
        throw new SetupError(messageOf(err));
      }
      return value;
    }
    for (let attempt = 1; ; attempt++) {
      const typed = await this.prompt(() =>
        password(
          {
            message: q.saved !== undefined ? `${q.label} (Enter keeps the saved one)` : q.label,
            mask: "*",
            validate: (v) => (v.trim() === "" ? (q.saved !== undefined ? true : "an answer is needed") : (q.problem(v.trim()) ?? true)),
          },
          this.context(),
        ),
      );
      const value = typed.trim() || q.saved!;
      try {
        await q.check(value);
        return value;
      } catch (err) {
        this.ctx.stdout.write(`  ✗ ${messageOf(err)}\n`);
        if (attempt >= q.tries) throw new SetupError(`${q.label}: refused ${q.tries} times; ${STOPPED}`);
      }
    }
  }
}
