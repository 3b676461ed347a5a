import { strict as assert } from 'node:assert';
import { guestMayLackDir, guestMayLackFs, isSecurityOption } from './guest-lacks.js';

describe('import: guest-lacks', () => {
  it('names filesystems and sysfs/proc directories the guest may lack; what the lab asks for is not among them', () => {
    for (const fs of ['configfs', 'selinuxfs', 'bpf', 'tracefs']) assert.ok(guestMayLackFs(fs), fs);
    for (const fs of ['debugfs', 'securityfs', 'pstore', 'fusectl', 'sysfs', 'proc', 'toString'])
      assert.equal(guestMayLackFs(fs), undefined, fs);
    assert.equal(guestMayLackDir('/sys/kernel/config/usb_gadget')?.dir, '/sys/kernel/config');
    assert.equal(guestMayLackDir('/sys/kernel/configx'), undefined);
    assert.equal(guestMayLackDir('/sys/kernel/security'), undefined);
  });

  it('knows the super options only a security module gives', () => {
    for (const o of ['seclabel', 'context=system_u:object_r:tmp_t:s0', 'rootcontext=x', 'smackfsdef=_'])
      assert.ok(isSecurityOption(o), o);
    for (const o of ['rw', 'mode=755', 'nsdelegate']) assert.ok(!isSecurityOption(o), o);
  });
});
