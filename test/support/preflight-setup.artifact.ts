/** globalSetup of the artifact tier: see preflight-setup.ts. */
import { preflightSetup } from "./preflight-setup";

export default preflightSetup("artifact");
