import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { ShadowStatus } from '../../domain';
import { jsonTransformer } from './columns';

/** A Huawei device-shadow delivery status change. */
@Entity({ name: 'shadow_event' })
@Index('ix_shadow_event_device', ['deviceId', 'id'])
export class ShadowEvent {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id: number;

  @Column({ name: 'device_id', type: 'varchar', length: 256 })
  deviceId: string;

  @Column({ name: 'service_id', type: 'varchar', length: 256 })
  serviceId: string;

  /** The desired properties, kept whole (keys may contain spaces). */
  @Column({ type: 'text', transformer: jsonTransformer })
  properties: Record<string, unknown>;

  @Column({ type: 'varchar', length: 16 })
  status: ShadowStatus;

  @Column({ name: 'received_at', type: Date })
  receivedAt: Date;
}
