// Talking to the service: GraphQL over HTTP and subscriptions over graphql-transport-ws
// (the vendored graphql-ws client), both with the key kept for this browser session.

const KEY = "cdp.key";

export function currentKey() {
  return sessionStorage.getItem(KEY);
}

export function keepKey(key) {
  if (key) sessionStorage.setItem(KEY, key);
  else sessionStorage.removeItem(KEY);
}

/** An answer the agent can read: the service's sentence and its code. */
export class ApiError extends Error {
  constructor(message, code = "ERROR", status = 0) {
    super(message);
    this.code = code;
    this.status = status;
  }

  get signedOut() {
    return this.code === "UNAUTHENTICATED";
  }
}

/** A GraphQL error as the agent reads it, its code kept (what the screen does next). */
function answered(error, status = 0) {
  return new ApiError(error.message, error.extensions?.code ?? "ERROR", status);
}

export async function gql(query, variables = {}) {
  const headers = { "Content-Type": "application/json", Accept: "application/json" };
  const key = currentKey();
  if (key) headers.Authorization = `Bearer ${key}`;
  let response;
  try {
    response = await fetch("/graphql", { method: "POST", headers, body: JSON.stringify({ query, variables }) });
  } catch {
    throw new ApiError("The service cannot be reached: is it running, and is this machine online?", "NETWORK");
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ApiError(`The service answered HTTP ${response.status} without a readable body.`, "HTTP", response.status);
  }
  if (body.errors && body.errors.length) {
    throw answered(body.errors[0], response.status);
  }
  return body.data;
}

let asked = null;

/** What the signed-in key may do (asked once per page load): which actions to offer. */
export async function permissions() {
  asked ??= gql("query Viewer { viewer { name scopes } }").then(({ viewer }) => {
    const has = (scope) => viewer.scopes.includes(scope) || viewer.scopes.includes("ADMIN");
    return { name: viewer.name, answerOffers: has("EVENTS_WRITE"), linkIdentities: has("ADMIN") };
  });
  try {
    return await asked;
  } catch (error) {
    asked = null;
    throw error;
  }
}

export function forgetPermissions() {
  asked = null;
}

/** One WebSocket for a screen; each subscription calls ``onData`` with its payload. */
export function liveClient(onState) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const client = globalThis.graphqlWs.createClient({
    url: `${scheme}://${location.host}/graphql`,
    connectionParams: () => ({ Authorization: `Bearer ${currentKey()}` }),
    lazy: true,
    retryAttempts: 10,
    on: {
      connected: () => onState(true),
      closed: () => onState(false),
    },
  });
  return {
    /** Subscribe; ``onEnd`` is called when the service ends the subscription (not when
     * the returned stop is called). */
    subscribe(query, variables, onData, onError, onEnd = () => {}) {
      let stopped = false;
      const stop = client.subscribe(
        { query, variables },
        {
          next: (answer) => (answer.errors ? onError(answered(answer.errors[0])) : onData(answer.data)),
          error: (problem) => onError(new ApiError(problem?.reason || problem?.message || "The live connection failed.")),
          complete: () => stopped || onEnd(),
        },
      );
      return () => {
        stopped = true;
        stop();
      };
    },
    dispose: () => client.dispose(),
  };
}
